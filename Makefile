# The commands of the README. `make run` starts the server on its working
# default; `make test` runs every test (CI runs exactly this).

SQLC := go run github.com/sqlc-dev/sqlc/cmd/sqlc@v1.31.1

.PHONY: run test test-asterisk generate build prompts

# run starts ivr on its private local PostgreSQL (see `ivr dev -h`), whatever
# DATABASE_URL the shell exports; it prints the URL the operator commands need. The binary
# is built first and run in place of the shell, so that Ctrl-C reaches ivr
# alone and its clean stop is make's exit status (go run exits 1 on a signal).
run: build
	exec env -u DATABASE_URL -u DATABASE_URL_FILE -u IVR_DATABASE_URL -u IVR_DATABASE_URL_FILE bin/ivr dev

# test runs all tests. Database tests start their own throwaway PostgreSQL
# from the installed binaries, or use $$TEST_DATABASE_URL when it is set.
test:
	go test -race ./...

# test-asterisk runs the live suite (internal/livetest): real calls through a
# real Asterisk (the kit in ../shared/asterisk, or $$IVR_ASTERISK_KIT) and the
# documented dialplans, against ivr serve and a private PostgreSQL. See
# docs/asterisk.md.
test-asterisk:
	go test -tags asterisk -count 1 -v -parallel 64 -timeout 30m ./internal/livetest

# generate rewrites the sqlc code under internal/store/internal/sqlcdb from
# db/queries and db/migrations. Commit the result; never edit it by hand.
generate:
	$(SQLC) generate

build:
	go build -o bin/ivr ./cmd/ivr

# prompts makes the sample prompts (deploy/asterisk/sounds/en/ivr/*.wav) from
# their words in deploy/asterisk/sounds/prompts.txt with espeak-ng and sox.
# Commit the result together with the text.
prompts:
	bash deploy/asterisk/sounds/make-prompts.sh
