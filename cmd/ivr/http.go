package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds one /readyz check.
const readyTimeout = 2 * time.Second

// health serves /healthz, /readyz and /metrics.
type health struct {
	// ready reports why the server cannot take calls, or nil.
	ready func(ctx context.Context) error
	// stopping is set when a shutdown starts; /readyz then fails.
	stopping atomic.Bool
	log      *slog.Logger
}

// handler returns the HTTP handler: /metrics from reg, /healthz (the process
// answers) and /readyz (h.ready passes and no shutdown is in progress).
func (h *health) handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if h.stopping.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := h.ready(ctx); err != nil {
			// The detail (socket paths, users, database names) is for the
			// log; anyone who reaches the port reads the body.
			h.log.Warn("not ready", "err", err)
			http.Error(w, "not ready: "+notReadyReason(ctx, err), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// A notReady is a readiness failure whose Reason may be shown to anyone.
type notReady struct {
	Reason string // what is wrong, in words that name no path, user or database
	Err    error  // the detail, for the log; may be nil
}

func (e *notReady) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *notReady) Unwrap() error { return e.Err }

// notReadyReason says what err, from a readiness check with ctx, means
// without its detail.
func notReadyReason(ctx context.Context, err error) string {
	var nr *notReady
	switch {
	case errors.As(err, &nr):
		return nr.Reason
	case ctx.Err() != nil:
		return "the database did not answer in time"
	}
	return "the database is not available"
}

// newHTTPServer returns the server of the HTTP listener, with timeouts that
// suit short health and metrics requests.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
