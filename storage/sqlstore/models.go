package sqlstore

import (
	"time"
)

// Timestamps are Unix microseconds; see the package comment.

func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func toMicrosPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

func fromMicrosPtr(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := fromMicros(*us)
	return &t
}

type revisionRow struct {
	ID          int64 `gorm:"primaryKey;autoIncrement"`
	Bundle      []byte
	Hash        string
	Author      string
	Message     string
	State       string
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
	ActivatedAt *int64
	ActivatedBy string
}

func (revisionRow) TableName() string { return "policy_revisions" }

type clientRow struct {
	ID           string `gorm:"primaryKey"`
	KeyHash      string
	Name         string
	AssertClaims bool
	ReturnTo     string
	Disabled     bool
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	// Migration 7: key overlap and use.
	KeyCreatedAt          *int64
	PreviousKeyHash       string
	PreviousKeyExpiresAt  *int64
	LastUsedAt            *int64
	PreviousKeyLastUsedAt *int64
}

func (clientRow) TableName() string { return "clients" }

type savedSearchRow struct {
	ID        int64 `gorm:"primaryKey"`
	Owner     string
	Name      string
	Query     string
	CreatedAt int64 `gorm:"autoCreateTime:false"`
}

func (savedSearchRow) TableName() string { return "saved_searches" }

type stepUpRow struct {
	ID           string `gorm:"primaryKey"`
	ClientID     string
	Issuer       string
	ClientAppID  string
	State        string
	Nonce        string
	CodeVerifier string
	DecisionID   string
	Subject      string
	ReturnTo     string
	Action       string
	Requirements []byte
	IssuedAt     int64
	ExpiresAt    int64
	UsedAt       *int64
}

func (stepUpRow) TableName() string { return "step_up_transactions" }

type settingRow struct {
	Name  string `gorm:"primaryKey"`
	Value string
}

func (settingRow) TableName() string { return "settings" }
