package pglocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartStandby starts a streaming replica of s: pg_basebackup copies s into
// cfg.DataDir, which must hold no cluster yet, and writes the standby.signal
// file and the primary_conninfo (s's unix socket) that make the copy start as
// a hot standby. The standby then follows s, answers read-only queries, and
// refuses every write. Give it a SocketDir or Port of its own; BinDir
// defaults to s's, as a standby must run the primary's major version.
//
// s must take replication connections on its socket: wal_level replica or
// logical and a free max_wal_senders (PostgreSQL's defaults), and the local
// replication line initdb writes in pg_hba.conf. The caller owns the returned
// Server and must Stop it; stopping s first leaves it answering reads.
func (s *Server) StartStandby(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.BinDir == "" {
		cfg.BinDir = s.cfg.BinDir
	}
	sb, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(sb.cfg.DataDir, "PG_VERSION")); err == nil {
		return nil, fmt.Errorf("pglocal: standby: %s already holds a cluster", sb.cfg.DataDir)
	}
	// A fast checkpoint starts the copy at once, instead of spreading the
	// checkpoint over minutes as a backup of a busy server would.
	args := []string{"-D", sb.cfg.DataDir, "-d", s.URL("postgres"), "--write-recovery-conf", "--checkpoint=fast", "--wal-method=stream"}
	if cfg.NoFsync {
		args = append(args, "--no-sync")
	}
	if out, err := sb.command(ctx, "pg_basebackup", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pglocal: standby: pg_basebackup: %w\n%s", err, out)
	}
	if err := sb.start(ctx); err != nil {
		return nil, fmt.Errorf("pglocal: standby: %w", err)
	}
	return sb, nil
}

// CatchUp waits until standby has replayed all the changes s had written
// when CatchUp was called (the standby's pg_last_wal_replay_lsn has reached
// s's pg_current_wal_lsn) and returns how long the standby still took once
// that position was read. It fails when ctx ends first, when standby is not
// in recovery, or when either server cannot be asked.
func (s *Server) CatchUp(ctx context.Context, standby *Server) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, standby.URL("postgres"))
	if err != nil {
		return 0, fmt.Errorf("pglocal: catch up: standby: %w", err)
	}
	defer conn.Close(context.Background())
	primary, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return 0, fmt.Errorf("pglocal: catch up: primary: %w", err)
	}
	var lsn string
	err = primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn)
	primary.Close(context.Background())
	if err != nil {
		return 0, fmt.Errorf("pglocal: catch up: primary: %w", err)
	}
	start := time.Now()
	if err := waitReplayed(ctx, conn, lsn); err != nil {
		return 0, fmt.Errorf("pglocal: catch up: standby: %w", err)
	}
	return time.Since(start), nil
}

// waitReplayed asks the standby on conn every millisecond whether it has
// replayed the WAL up to lsn, until it has or ctx ends.
func waitReplayed(ctx context.Context, conn *pgx.Conn, lsn string) error {
	for {
		// NULL (not false) when the server is not in recovery.
		var done *bool
		if err := conn.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", lsn).Scan(&done); err != nil {
			return err
		}
		switch {
		case done == nil:
			return errors.New("not in recovery")
		case *done:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replay up to %s: %w", lsn, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}
