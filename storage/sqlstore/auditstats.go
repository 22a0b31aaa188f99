package sqlstore

import (
	"context"
	"time"
)

// CountAuditBuckets counts audit records of kind in [since, until) per time
// bucket (keyed by the bucket's start in Unix seconds, aligned to since)
// and outcome. The grouping runs in the database over the (kind, ts) index.
func (s *Store) CountAuditBuckets(ctx context.Context, kind string, since, until time.Time, bucket time.Duration) (map[int64]map[string]int64, error) {
	const op = "count audit buckets"
	width := bucket.Microseconds()
	if width <= 0 {
		return nil, invalid(op, "bucket must be positive")
	}
	from := toMicros(since)
	var rows []struct {
		B       int64
		Outcome string
		N       int64
	}
	// GROUP BY names the output column: PostgreSQL does not treat a
	// repeated "(ts - $6) / $7" as the selected "(ts - $1) / $2".
	err := s.r.WithContext(ctx).Raw(`SELECT (ts - ?) / ? AS b, outcome, COUNT(*) AS n FROM audit_records
		WHERE kind = ? AND ts >= ? AND ts < ? GROUP BY b, outcome`,
		from, width, kind, from, toMicros(until)).Scan(&rows).Error
	if err != nil {
		return nil, wrap(op, err)
	}
	out := map[int64]map[string]int64{}
	for _, r := range rows {
		start := since.Add(time.Duration(r.B) * bucket).Unix()
		if out[start] == nil {
			out[start] = map[string]int64{}
		}
		out[start][r.Outcome] += r.N
	}
	return out, nil
}

// CountAuditByAction counts audit records of kind in [since, until) per
// action and outcome.
func (s *Store) CountAuditByAction(ctx context.Context, kind string, since, until time.Time) (map[string]map[string]int64, error) {
	var rows []struct {
		Action  string
		Outcome string
		N       int64
	}
	err := s.r.WithContext(ctx).Raw(`SELECT action, outcome, COUNT(*) AS n FROM audit_records
		WHERE kind = ? AND ts >= ? AND ts < ? GROUP BY action, outcome`,
		kind, toMicros(since), toMicros(until)).Scan(&rows).Error
	if err != nil {
		return nil, wrap("count audit by action", err)
	}
	out := map[string]map[string]int64{}
	for _, r := range rows {
		if out[r.Action] == nil {
			out[r.Action] = map[string]int64{}
		}
		out[r.Action][r.Outcome] += r.N
	}
	return out, nil
}
