//go:build asterisk

// Package livetest runs the call flows of docs/ivr.md against a real Asterisk:
// the kit in ../shared/asterisk (or $IVR_ASTERISK_KIT), `ivr serve` built from
// ./cmd/ivr and run as a subprocess, and a private PostgreSQL. The dialplans
// the calls run through are the ones the documentation shows (README.md,
// docs/asterisk.md, docs/ivr.md and deploy/asterisk/extensions.conf), with only
// the FastAGI host and port replaced, so a document that drifts from what ivr
// does fails here.
//
// The package builds only with the asterisk tag, so `go test ./...` runs on a
// machine without Asterisk; `make test-asterisk` runs it:
//
//	go test -tags asterisk -count 1 -v ./internal/livetest
//
// It never skips: without the kit, PostgreSQL or the prompts it fails and
// says what is missing. docs/asterisk.md describes the kit and its workarounds.
package livetest
