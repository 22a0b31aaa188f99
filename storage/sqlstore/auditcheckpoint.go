package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
)

// walAutoCheckpoint is the WAL size, in pages, at which the SQLite writer
// connection checkpoints by itself. SQLite's default (1000 pages) makes the
// commit that crosses it also copy the whole WAL into the database file and
// fsync it, which showed as the p99 of sync-mode decisions (hundreds of
// milliseconds on a busy disk). The audit writer instead calls CheckpointWAL
// off the commit path, so the writer's own checkpoint only runs when that
// falls behind, and then copies little: the frames already backfilled are
// skipped. It still bounds the WAL to about 16 MB.
const walAutoCheckpoint = 4000

// writerConnState remembers which driver connection of the SQLite writer
// pool already had its checkpoint threshold raised; a replaced connection
// (after an error) is configured again before its first append.
type writerConnState struct {
	configured atomic.Pointer[any]
}

// configureWriterConn raises the automatic checkpoint threshold on conn, the
// SQLite writer connection, once per driver connection. Durability is
// untouched: synchronous=FULL still syncs the WAL at every commit.
func (s *Store) configureWriterConn(ctx context.Context, conn *sql.Conn) error {
	if s.dialect != SQLite {
		return nil
	}
	var dc any
	if err := conn.Raw(func(c any) error { dc = c; return nil }); err != nil {
		return fmt.Errorf("inspect writer connection: %w", err)
	}
	if p := s.writerConn.configured.Load(); p != nil && *p == dc {
		return nil
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutoCheckpoint)); err != nil {
		return fmt.Errorf("set wal_autocheckpoint: %w", err)
	}
	s.writerConn.configured.Store(&dc)
	return nil
}

// CheckpointWAL copies the committed part of SQLite's write-ahead log into
// the database file (PRAGMA wal_checkpoint(PASSIVE)) on a reader connection,
// so that it runs beside the writer instead of inside one of its commits.
// A passive checkpoint never blocks writers or readers. On PostgreSQL it
// does nothing.
func (s *Store) CheckpointWAL(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	var busy, logFrames, done int
	if err := s.r.WithContext(ctx).Raw("PRAGMA wal_checkpoint(PASSIVE)").Row().Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("sqlstore: checkpoint wal: %w", err)
	}
	return nil
}
