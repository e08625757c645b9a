// Package datagen makes realistic IVR traffic for measuring the reports, by
// playing it through the product itself: every call runs the real handlers of
// package ivr (ServeLookup, ServeIVR) on the real store and its caches, driven
// over the AGI protocol by agiclient as Asterisk would drive them. What lands
// in the journal (calls, steps, responses, recordings, PIN attempts and
// lockouts) is what the flows write, so the generated data cannot disagree with
// the product.
//
// # The model
//
// A Plan holds what a run seeds and plays: callers with phone numbers and
// PINs, three versions of the main menu and two of the satisfaction survey,
// each going live at its own time, and the start of every call, spread over
// Options.Days days, most of them in business hours with a morning peak, and
// fewer at weekends. Plan.Script gives each call a Script: its route (40% lookups, the
// rest whole IVR calls), the number it comes from, the account it is about,
// and what the caller does at each kind of prompt: the account numbers typed,
// each PIN right, wrong or not typed, the menu keys pressed (with invalid keys
// and silences), survey answers, message keys, recording takes and reviews, new
// PINs, and the prompt during which the caller hangs up, if any. A caller whose
// keys run out at the menu hangs up there; anywhere else they stay silent.
//
// # Playing
//
// Generate seeds the callers, menus and surveys through the store's own
// administrative methods, then plays the scripts in start order on
// Options.Lanes lanes at once, never more than twice that many calls apart,
// so rows reach the tables nearly in the order of their times as they do in
// service (the reports' BRIN indexes count on it). A lane is one ivr.App with a clock of its own
// (ivr.Services.Now): before each call the lane sets it to the script's start,
// and the caller's side moves it on by the time each prompt, key and recording
// takes, so every row is stamped at its scripted time while the calls run as
// fast as the machine allows. Calls reach the App over net.Pipe through an
// agi.Server of the lane: no network. A new menu or survey version is
// published when the first call after the time it goes live is due, once
// the calls before it have ended.
//
// A call about a caller (by phone number or typed account) always plays on the
// lane of that caller, so each caller's calls run one after the other in time
// order, and their PIN failures, lockouts, PIN changes and messages build up
// as they would have. The other calls go to whichever lane has room. At the
// end the journal's tables are vacuumed and analyzed, as autovacuum would
// have kept them.
//
// # What is deterministic
//
// The same Options (seed included) give the same Plan and the same scripts.
// Because each caller's calls run in order, they also give the same outcomes
// and the same journal content, times included: the same Tally, and the same
// report rows. What differs between two runs is what the database assigns or
// stamps itself: row ids (and so the order of ids among concurrent calls),
// session ids, and the real times of the catalog (a version's created_at and
// published_at) and of the callers' updated_at.
//
// # Example
//
//	db, err := store.Open(ctx, url) // a migrated, empty database
//	...
//	sum, err := datagen.Generate(ctx, db, datagen.Options{Calls: 100_000, Days: 90}, nil)
package datagen
