package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchAgainstTheIVR(t *testing.T) {
	t.Parallel()
	addr, dbURL := startCallTarget(t)

	var out, errOut bytes.Buffer
	args := []string{"bench", "--addr", addr, "--sounds-dir", "none", "--caller", "+15555550100", "--press", "7391", "--press", "5", "--press", "1",
		"--calls", "40", "--concurrency", "8", "--database-url", dbURL}
	if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("ivr bench: %v\n%s%s", err, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"calls: 40 in ", " 0 errors",
		"results: IVR_RESULT=transfer 40",
		"call rows: 40 of 40 closed, 0 still open, 0 missing",
		"LATENCY_OF", "call ", "ANSWER ", "GET DATA ", "SET VARIABLE ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("bench output lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(errOut.String(), "40/40 100%") {
		t.Errorf("no finished progress bar on stderr: %q", errOut.String())
	}
	// Each of the 40 calls played three GET DATA: PIN, main menu, departments.
	if !strings.Contains(got, "GET DATA      120") {
		t.Errorf("GET DATA count is not 120:\n%s", got)
	}
}

func TestBenchForADurationAsJSON(t *testing.T) {
	t.Parallel()
	addr, _ := startCallTarget(t)
	var out, errOut bytes.Buffer
	args := []string{"bench", "--addr", addr, "--route", "lookup", "--caller", "+15555550100",
		"--duration", "300ms", "--concurrency", "4", "--format", "json", "--no-progress"}
	if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("ivr bench: %v\n%s%s", err, out.String(), errOut.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("stdout is not the JSON latency table: %v\n%s", err, out.String())
	}
	if n, ok := rows[0]["count"].(float64); len(rows) == 0 || rows[0]["latency_of"] != "call" || !ok || n == 0 {
		t.Errorf("latency rows = %v, want the whole-call row first", rows)
	}
	if s := errOut.String(); !strings.Contains(s, "results: IVR_CALLER_FOUND=1 ") || strings.Contains(s, "FOUND=0") || !strings.Contains(s, " 0 errors") {
		t.Errorf("summary on stderr = %q, want every lookup to find the caller and no errors", s)
	}
}

func TestBenchCountsUnreachableServerAsErrors(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	args := []string{"bench", "--addr", "127.0.0.1:1", "--calls", "3", "--concurrency", "1", "--no-progress"}
	err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "3 of 3 calls failed") {
		t.Fatalf("err = %v, want 3 of 3 calls failed\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "calls: 3 in ") || !strings.Contains(out.String(), "connection refused") {
		t.Errorf("summary lacks the count or the reason:\n%s", out.String())
	}
}
