package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/stepgate/stepgate/storage"
)

// Config configures Open.
type Config struct {
	// URL selects the database. "postgres://…" or "postgresql://…" opens
	// PostgreSQL (libpq URL, e.g. ?sslmode=disable&search_path=stepgate).
	// "sqlite://PATH", "sqlite:PATH" or a bare file PATH opens SQLite; the
	// parent directory is created (0700) when missing. Required.
	URL string
	// Logger receives slow-query and error logs. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock used for defaulted timestamps. Default: time.Now.
	Now func() time.Time
	// MaxConns caps the PostgreSQL pool, or the SQLite read-only pool (the
	// SQLite writer pool is always one connection). Default: 10 for
	// PostgreSQL, min(max(NumCPU, 2), 8) for SQLite readers.
	MaxConns int
	// BusyTimeout is how long SQLite waits for a lock held by another
	// process before failing. Default: 5s.
	BusyTimeout time.Duration
	// SlowQuery is the threshold above which queries are logged. Default: 500ms.
	SlowQuery time.Duration
}

// Dialect names a database backend.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the gorm implementation of storage.Store.
type Store struct {
	dialect Dialect
	// w receives every write; r serves reads. They are the same pool on
	// PostgreSQL and separate pools on SQLite.
	w, r   *gorm.DB
	now    func() time.Time
	logger *slog.Logger
	// heads remembers the audit chain heads this store committed last.
	heads chainHeads
	// writerConn tracks the SQLite writer connection's WAL settings.
	writerConn writerConnState
}

// DefaultSQLiteURL returns the URL of the SQLite database kept in dataDir.
func DefaultSQLiteURL(dataDir string) string {
	return "sqlite://" + filepath.Join(dataDir, "stepgate.db")
}

// Open connects to the database named by cfg.URL, migrates it to the current
// schema version and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("sqlstore: open: empty database URL")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BusyTimeout <= 0 {
		cfg.BusyTimeout = 5 * time.Second
	}
	if cfg.SlowQuery <= 0 {
		cfg.SlowQuery = 500 * time.Millisecond
	}
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError:         true,
			SkipDefaultTransaction: true,
			NowFunc:                func() time.Time { return cfg.Now().UTC() },
			Logger: logger.NewSlogLogger(cfg.Logger, logger.Config{
				SlowThreshold:             cfg.SlowQuery,
				LogLevel:                  logger.Warn,
				IgnoreRecordNotFoundError: true,
			}),
		}
	}
	s := &Store{now: cfg.Now, logger: cfg.Logger}
	var err error
	switch {
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		s.dialect = Postgres
		err = s.openPostgres(cfg, gcfg)
	default:
		s.dialect = SQLite
		err = s.openSQLite(cfg, gcfg)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) openPostgres(cfg Config, gcfg func() *gorm.Config) error {
	db, err := gorm.Open(postgres.Open(cfg.URL), gcfg())
	if err != nil {
		return fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	n := cfg.MaxConns
	if n <= 0 {
		n = 10
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s.w, s.r = db, db
	return nil
}

func (s *Store) openSQLite(cfg Config, gcfg func() *gorm.Config) error {
	path := strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "sqlite://"), "sqlite:")
	if path == "" || strings.ContainsAny(path, "?#") || strings.Contains(path, ":memory:") {
		return fmt.Errorf("sqlstore: open sqlite: %q is not a usable file path (in-memory databases are not supported: each connection would see its own)", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlstore: open sqlite: create directory: %w", err)
	}
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")
	writer := url.Values{"_pragma": append([]string{"journal_mode(WAL)"}, common["_pragma"]...)}
	writer.Add("_pragma", "synchronous(FULL)")
	writer.Set("_txlock", "immediate")
	w, err := gorm.Open(sqlite.Open(path+"?"+writer.Encode()), gcfg())
	if err != nil {
		return fmt.Errorf("sqlstore: open sqlite writer: %w", err)
	}
	wDB, err := w.DB()
	if err != nil {
		return fmt.Errorf("sqlstore: open sqlite writer: %w", err)
	}
	wDB.SetMaxOpenConns(1)
	wDB.SetMaxIdleConns(1)
	wDB.SetConnMaxIdleTime(0)
	s.w = w
	// The writer must have switched the file to WAL before readers open it.
	if err := wDB.Ping(); err != nil {
		wDB.Close()
		return fmt.Errorf("sqlstore: open sqlite writer: %w", err)
	}
	reader := url.Values{"_pragma": append([]string{"query_only(1)"}, common["_pragma"]...)}
	r, err := gorm.Open(sqlite.Open(path+"?"+reader.Encode()), gcfg())
	if err != nil {
		wDB.Close()
		return fmt.Errorf("sqlstore: open sqlite reader: %w", err)
	}
	rDB, err := r.DB()
	if err != nil {
		wDB.Close()
		return fmt.Errorf("sqlstore: open sqlite reader: %w", err)
	}
	n := cfg.MaxConns
	if n <= 0 {
		n = min(max(runtime.NumCPU(), 2), 8)
	}
	rDB.SetMaxOpenConns(n)
	rDB.SetMaxIdleConns(n)
	s.r = r
	return nil
}

// Dialect reports which backend the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range s.pools() {
		sqlDB, err := db.DB()
		if err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
		if err := sqlDB.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
	}
	return nil
}

// Close releases every connection.
func (s *Store) Close() error {
	var errs []error
	for _, db := range s.pools() {
		if sqlDB, err := db.DB(); err == nil {
			errs = append(errs, sqlDB.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

func (s *Store) pools() []*gorm.DB {
	switch {
	case s.w == nil:
		return nil
	case s.r == nil || s.r == s.w:
		return []*gorm.DB{s.w}
	default:
		return []*gorm.DB{s.w, s.r}
	}
}

var _ storage.Store = (*Store)(nil)
