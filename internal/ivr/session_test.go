package ivr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// TestOneChannelManySessions runs the documented dialplan on one channel: the
// lookup route, then the ivr route, then the ivr route again (a Goto back).
// The three sessions share the channel's agi_uniqueid; each is journaled as a
// call of its own, and every ivr session completes.
func TestOneChannelManySessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	const uid = "1700000900.1"
	onChannel := func(c agiclient.Call) agiclient.Call {
		c.Env["agi_uniqueid"] = uid
		return c
	}

	lookup := w.run(onChannel(agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": aliceLocal}}))
	if lookup.tr.Variables["IVR_CALLER_FOUND"] != "1" || lookup.row.Route != "lookup" || len(lookup.steps) != 1 {
		t.Fatalf("lookup: variables %v, row %+v, steps %v", lookup.tr.Variables, lookup.row, lookup.stepKeys())
	}
	first := w.run(onChannel(fromAlice(alicePIN+"#", "9")))
	w.checkEnd(first, ivr.ResultCompleted, ivr.EndCompleted)
	again := w.run(onChannel(fromAlice(alicePIN+"#", "9")))
	w.checkEnd(again, ivr.ResultCompleted, ivr.EndCompleted)
	if first.row.ID == lookup.row.ID || again.row.ID == first.row.ID {
		t.Errorf("sessions share a call row: lookup %d, ivr %d, ivr again %d", lookup.row.ID, first.row.ID, again.row.ID)
	}

	rows, err := w.pool.Query(context.Background(),
		"SELECT route, session_id::text, caller_id FROM calls WHERE uniqueid = $1 ORDER BY id", uid)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	keys := map[string]bool{}
	for rows.Next() {
		var route, key string
		var caller *int64
		if err := rows.Scan(&route, &key, &caller); err != nil {
			t.Fatal(err)
		}
		routes = append(routes, route)
		keys[key] = true
		if caller == nil || *caller != w.alice {
			t.Errorf("%s session: caller %v, want Alice %d", route, deref(caller), w.alice)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(routes, ",") != "lookup,ivr,ivr" || len(keys) != 3 {
		t.Errorf("channel's sessions: routes %v with %d distinct keys, want lookup,ivr,ivr with 3", routes, len(keys))
	}
	if strings.Contains(w.logs.String(), "level=ERROR") {
		t.Errorf("an error was logged:\n%s", w.logs)
	}
}

// TestRefusedValueIsNoOutage calls with a dialled number the database refuses
// to store (a rule added here for the test: text from the wire is made valid
// before it is stored, so no caller can trip one): the caller hears the
// apology, the dialplan gets IVR_RESULT=error, and the log says the database
// refused a value, not that it is unavailable, without echoing the value.
func TestRefusedValueIsNoOutage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	if _, err := w.pool.Exec(context.Background(), `ALTER TABLE calls ADD CONSTRAINT calls_dnid_refused CHECK (dnid <> '5559876')`); err != nil {
		t.Fatal(err)
	}
	tr := w.srv.Run(t, agiclient.Call{Script: "ivr?menu=main", Env: map[string]string{"agi_callerid": aliceLocal, "agi_dnid": "5559876"}})
	if got := tr.Variables["IVR_RESULT"]; got != string(ivr.ResultError) {
		t.Errorf("IVR_RESULT = %q, want error\n%s", got, tr)
	}
	logs := w.logs.String()
	var line string
	for l := range strings.SplitSeq(logs, "\n") {
		if strings.Contains(l, "level=ERROR") && strings.Contains(l, tr.EnvValue("agi_uniqueid")) {
			line = l
		}
	}
	if !strings.Contains(line, `msg="database refused a value"`) || strings.Contains(line, "unavailable") {
		t.Errorf("log line %q, want one saying the database refused a value\n%s", line, logs)
	}
	if !strings.Contains(line, "calls_dnid_refused") || strings.Contains(line, "5559876") {
		t.Errorf("log line %q, want the rule named and the value left out", line)
	}
}
