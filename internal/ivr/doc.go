// Package ivr is the application: what the server does with a call once the
// agi package has parsed Asterisk's side of it. An App (New) holds the two
// route handlers the agi.Mux serves, ServeLookup and ServeIVR, the Config
// they follow and the Services they use.
//
// # Routes
//
// The lookup route (agi://host/lookup) is the busy one: it finds the caller
// by caller ID, sets IVR_CALLER_* for the dialplan and returns without
// answering. Its journal, the call row with its one lookup step, is written
// in the background (Journal.RecordCall) while the variables are set, so the
// dialplan never waits longer than Config.LookupTimeout.
//
// The ivr route (agi://host/ivr?menu=main) is a whole call: it answers,
// identifies the caller by caller ID or account number, checks the PIN, and
// runs the published menus and what their options lead to (surveys,
// recordings, messages, a PIN change, a transfer). It ends, whatever
// happened, by setting IVR_RESULT for the dialplan and closing the call row
// with its end reason (finish). Each call is one goroutine, the agi server's,
// and a *call carries its state from step to step.
//
// # Ports
//
// The package declares what it needs from the outside as interfaces in
// ports.go (CallerDirectory, CallerLookup, Journal, PINLedger, Catalog,
// MessageBox) and never imports the store: package store implements them on
// PostgreSQL, the tests also on memory. The domain types they carry (Call,
// Step, Entry, Caller, Menu ...) are in domain.go and ports.go.
//
// # Writes
//
// Every step of a call is durable before the caller hears the next prompt:
// the flow builds the Entry of the step (the prompts played, the input, the
// answer given, and at the end the call row closed) and hands it to
// Journal.Write, which returns once it is committed. The store may share one
// commit among the entries of many calls; the flow neither knows nor cares.
// A PIN attempt is decided by the store (PINLedger.DecidePIN) in the same
// statement that counts it, so concurrent calls cannot outrun a lockout.
//
// When the database fails, the call still ends properly: a prompt apologises,
// IVR_RESULT=error sends the dialplan to its fallback, and the closing writes
// are kept and retried in the background (pending.go) until the database
// takes them; App.Close waits for them.
//
// # Secrets
//
// PINs are read with the agi package's secret commands, which mask them in
// every log line and error, are journaled without their digits, and are kept
// only as keyed hashes (Keyring).
package ivr
