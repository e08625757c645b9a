package ivr_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

// TestWireTextNotUTF8 plays calls whose caller ID, DNID, channel and menu key
// carry the byte 0xff, as Asterisk passes on from a SIP header: they are
// journaled like any other call, with the byte escaped, and no database error
// is reported.
func TestWireTextNotUTF8(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(agiclient.Call{Script: "ivr?menu=main", Keys: []string{aliceAccount + "#", alicePIN + "#", "9"},
		Env: map[string]string{"agi_callerid": "\xff" + aliceLocal, "agi_dnid": "10\xff0", "agi_channel": "PJSIP/\xfftrunk-1"}})
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	var raw, dnid, channel string
	if err := w.pool.QueryRow(context.Background(), "SELECT callerid_raw, dnid, channel FROM calls WHERE id = $1", c.row.ID).
		Scan(&raw, &dnid, &channel); err != nil {
		t.Fatal(err)
	}
	if raw != `\xff`+aliceLocal || dnid != `10\xff0` || channel != `PJSIP/\xfftrunk-1` {
		t.Errorf("stored caller ID %q, DNID %q, channel %q: want the byte written as \\xff", raw, dnid, channel)
	}

	// A menu key from the dialplan with the byte: no such menu, the call
	// journaled and closed as an error of the dialplan, not of the database.
	c = w.run(agiclient.Call{Script: "ivr?menu=%FF", Env: map[string]string{"agi_callerid": aliceLocal}, Keys: []string{alicePIN + "#"}})
	w.checkEnd(c, ivr.ResultError, ivr.EndError)
	logs := w.logs.String()
	if !strings.Contains(logs, "menu not published") || strings.Contains(logs, "database unavailable") {
		t.Errorf("want the unknown menu logged, and no database error:\n%s", logs)
	}
}
