package ivr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// TestCallsWithoutPartition takes calls in a month whose partitions of the
// journal are missing: the lookup still answers, the ivr call gets the
// apology and IVR_RESULT=error, the log says what is missing, and the calls'
// rows are kept and written once the month's partitions exist.
func TestCallsWithoutPartition(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	ctx := context.Background()
	if _, err := w.pool.Exec(ctx, "SELECT ivr_drop_month_partitions(now()::date)"); err != nil {
		t.Fatal(err)
	}

	lookup := w.srv.Run(t, agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": aliceLocal}})
	if v := lookup.Variables; v["IVR_CALLER_FOUND"] != "1" || v["IVR_CALLER_NAME"] != "Alice Example" {
		t.Errorf("lookup without a partition: %v, want Alice found", v)
	}
	call := w.srv.Run(t, fromAlice(alicePIN+"#", "9"))
	if got := call.Variables["IVR_RESULT"]; got != "error" {
		t.Errorf("IVR_RESULT = %q, want error", got)
	}
	if p := call.Prompts(); len(p) == 0 || p[len(p)-1] != "tt-somethingwrong" {
		t.Errorf("the caller heard %v, want the apology", p)
	}
	w.eventually("both calls' rows kept for retry", func() bool { return w.app.PendingStats().Pending == 2 })
	if logs := w.logs.String(); !strings.Contains(logs, `no partition of relation \"calls\" found for row`) ||
		!strings.Contains(logs, "run ivr maintain") {
		t.Errorf("the log does not say what is missing:\n%s", logs)
	}

	if _, err := w.pool.Exec(ctx, "SELECT ivr_create_month_partitions(now()::date, now()::date)"); err != nil {
		t.Fatal(err)
	}
	w.waitWrites()
	for _, tr := range []*agiclient.Transcript{lookup, call} {
		uid := tr.EnvValue("agi_uniqueid")
		var route, reason string
		if err := w.pool.QueryRow(ctx, "SELECT route, coalesce(end_reason, '') FROM calls WHERE uniqueid = $1", uid).
			Scan(&route, &reason); err != nil {
			t.Errorf("call %s: no row once the partitions exist (%v)\n%s", uid, err, w.logs)
			continue
		}
		if want := map[string]string{"lookup": "completed", "ivr": "error"}[route]; reason != want {
			t.Errorf("call %s (%s): closed as %q, want %q", uid, route, reason, want)
		}
	}
	if st := w.app.PendingStats(); st.Done != 2 || st.Failed != 0 {
		t.Errorf("pending writes %+v, want both done after retries", st)
	}
}
