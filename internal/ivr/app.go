package ivr

import (
	"errors"
	"log/slog"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
)

// App is the IVR application: the handlers of the lookup and ivr routes and
// what they share. Build it with New; it is safe for concurrent use by every
// call the agi server runs.
type App struct {
	cfg  Config
	lock LockPolicy // cfg's, for the store
	svc  Services
	log  *slog.Logger
	now  func() time.Time

	pending *pendingWrites // writes of ended calls retried in the background
}

// New returns an App with cfg (zero fields take their defaults) and svc. It
// returns an error when a required service is missing or a setting is invalid.
// The owner of the App closes it (Close) after the calls have ended, so the
// writes of calls it still retries are written or deliberately abandoned.
func New(cfg Config, svc Services) (*App, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if svc.Callers == nil || svc.Journal == nil || svc.PINs == nil || svc.Catalog == nil || svc.Messages == nil {
		return nil, errors.New("ivr: every store service is required")
	}
	if svc.Keyring == nil {
		return nil, errors.New("ivr: a PIN keyring is required")
	}
	if svc.Lookup == nil {
		svc.Lookup = directoryLookup{svc.Callers}
	}
	a := &App{cfg: cfg, lock: cfg.lockPolicy(), svc: svc, log: svc.Logger, now: svc.Now, pending: newPendingWrites()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Config returns the configuration in effect, defaults filled in.
func (a *App) Config() Config { return a.cfg }

// Register adds the routes of the App to mux: "lookup" (ServeLookup), and
// "ivr" and the subtree "ivr/" (ServeIVR; agi://host/ivr/sales starts at the
// menu "sales").
func (a *App) Register(mux *agi.ServeMux) {
	mux.Handle("lookup", agi.HandlerFunc(a.ServeLookup))
	mux.Handle("ivr", agi.HandlerFunc(a.ServeIVR))
	mux.Handle("ivr/", agi.HandlerFunc(a.ServeIVR))
}
