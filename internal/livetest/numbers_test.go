//go:build asterisk

package livetest

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The dialled numbers of the suite, besides those of numbers.yaml (500 starts
// at the main menu, 501 at the departments): 510 keeps hours that never open,
// 511 a holiday on the day before, of and after the suite's start (UTC), so
// the real clock of the server under test finds them closed and on holiday;
// 512 (French) and 513 (German) are closed too, with a message written as
// text in English and French.
const liveNumbers = `
  - number: "510"
    menu: main
    schedule: live-never
    closed: {action: message, prompt: ivr/closed}
  - number: "511"
    menu: main
    schedule: live-holiday
    closed: {action: message, prompt: ivr/closed}
    holiday: {action: record, prompt: ivr/holiday}
  - number: "512"
    menu: main
    language: fr
    schedule: live-never
    closed:
      action: message
      prompt:
        - {text: "We are closed.", language: en}
        - {text: "Nous sommes fermés. Merci de rappeler pendant nos heures d'ouverture.", language: fr}
  - number: "513"
    menu: main
    language: de
    schedule: live-never
    closed:
      action: message
      prompt:
        - {text: "We are closed.", language: en}
        - {text: "Nous sommes fermés. Merci de rappeler pendant nos heures d'ouverture.", language: fr}
`

// liveSchedules are the schedules of liveNumbers, for a suite started at now.
func liveSchedules(now time.Time) string {
	s := "\n  - key: live-never\n    time_zone: UTC\n" +
		"  - key: live-holiday\n    time_zone: UTC\n    hours:\n      - days: mon-sun\n        open: \"00:00-24:00\"\n    holidays:\n"
	for _, d := range []int{-1, 0, 1} {
		s += fmt.Sprintf("      - date: %s\n", now.UTC().AddDate(0, 0, d).Format(time.DateOnly))
	}
	return s
}

// trunk is the entry of dialled number n in the deploy dialplan's
// [from-trunk], on the main server.
func trunk(n string) entry { return at(tagMain, "deploy", "from-trunk", n) }

// Two numbers, two entry menus: 500 starts at the main menu, 501 at the
// departments, with no ?menu= in the dialplan.
func TestNumbersPickTheMenu(t *testing.T) {
	t.Parallel()
	cid := callerID("Nina", cNumbers.phone)
	mainMenu, err := s.rows.menuPrompt("main")
	if err != nil {
		t.Fatal(err)
	}
	departments, err := s.rows.menuPrompt("departments")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		number, keys, menu, other, transfer, response string
	}{
		{"500", "0", mainMenu, departments, "operator", "main=0"},
		{"501", "1", departments, mainMenu, "sales", "departments=1"},
	} {
		t.Run(tc.number, func(t *testing.T) {
			t.Parallel()
			e := trunk(tc.number)
			l := call(t, e, "k"+cNumbers.pin+"#-"+tc.keys, cid)
			wantTransfer(t, l, e, tc.transfer)
			if !l.played(tc.menu) || l.played(tc.other) {
				t.Errorf("%s did not start at %s:\n%s", tc.number, tc.menu, l)
			}
			c := ivrRow(t, s.rows, l)
			wantResponses(t, s.rows, c, tc.response)
			wantStep(t, steps(t, s.rows, c), "number", "number:"+tc.number, "valid", "-")
		})
	}
}

// Out of hours, a caller hears the closed message and the call hangs up; on
// a holiday, the holiday branch takes a message. Neither asks for a PIN.
func TestOutOfHoursAndHoliday(t *testing.T) {
	t.Parallel()
	cid := callerID("Nina", cNumbers.phone)
	closed, holiday := trunk("510"), trunk("511")
	pc := originate(t, closed, "idle", cid)
	// ivr/holiday (9 s) and vm-rec-name (4 s) play before the beep: speak
	// after 18 s, end with #, then accept (1).
	ph := originate(t, holiday, "k--------p#w1", cid)
	lc, lh := pc.wait(t), ph.wait(t)

	wantVar(t, lc, "IVR_RESULT", "completed")
	mainMenu, err := s.rows.menuPrompt("main")
	if err != nil {
		t.Fatal(err)
	}
	if !lc.played("ivr/closed") || lc.played("vm-password") || lc.played(mainMenu) {
		t.Errorf("510: want the closed message only:\n%s", lc)
	}
	c := ivrRow(t, s.rows, lc)
	wantEnd(t, c, "completed")
	wantStep(t, steps(t, s.rows, c), "schedule", "schedule:live-never:closed", "valid", "-")

	wantVar(t, lh, "IVR_RESULT", "completed")
	if !lh.played("ivr/holiday") || !lh.played("vm-rec-name") || lh.played("vm-password") {
		t.Errorf("511: want the holiday message, then a recording:\n%s", lh)
	}
	h := ivrRow(t, s.rows, lh)
	wantEnd(t, h, "completed")
	wantStep(t, steps(t, s.rows, h), "schedule", "schedule:live-holiday:holiday", "valid", "-")
	recs, err := s.rows.recordings(h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Errorf("the holiday call saved %d recordings, want 1: %+v", len(recs), recs)
	}
}

// A prompt written as text is rendered when the numbers are applied and
// Asterisk plays the file of the caller's language: on 512, whose language
// is French, the French words; on 513, whose language is German, the first
// language's, English. Each STREAM FILE reply's endpos is the length of the
// file Asterisk played, which tells the two apart.
func TestTextPromptInTheCallersLanguage(t *testing.T) {
	t.Parallel()
	// A number no caller has: a known caller's own language (the suite's
	// are en) would win over the number's.
	cid := callerID("Tess", "+15555550199")
	for _, tc := range []struct{ number, lang, file string }{
		{"512", "fr", "fr"},
		{"513", "de", "en"},
	} {
		t.Run(tc.number, func(t *testing.T) {
			t.Parallel()
			l := call(t, trunk(tc.number), "idle", cid)
			wantVar(t, l, "IVR_RESULT", "completed")
			var sound string
			for _, c := range l.agiCommands() {
				if f := strings.Fields(c); len(f) >= 3 && strings.EqualFold(f[0]+" "+f[1], "STREAM FILE") && strings.HasPrefix(f[2], "/") {
					sound = f[2]
				}
			}
			if sound == "" {
				t.Fatalf("no text prompt was played:\n%s", l)
			}
			reply, err := s.kit.agiReply(l.channel(), "STREAM FILE "+sound+" ")
			if err != nil {
				t.Fatal(err)
			}
			var result, endpos int
			if _, err := fmt.Sscanf(reply, "200 result=%d endpos=%d", &result, &endpos); err != nil || result != 0 {
				t.Fatalf("STREAM FILE %s answered %q: the file was not played", sound, reply)
			}
			dir, hash := filepath.Dir(sound), filepath.Base(sound)
			want := wavSamples(t, filepath.Join(dir, tc.file, hash+".wav"))
			other := "en"
			if tc.file == "en" {
				other = "fr"
			}
			if endpos != want {
				t.Errorf("Asterisk played %d samples, want %d, the %s file (the %s file has %d)",
					endpos, want, tc.file, other, wavSamples(t, filepath.Join(dir, other, hash+".wav")))
			}
			c := ivrRow(t, s.rows, l)
			wantEnd(t, c, "completed")
			wantStep(t, steps(t, s.rows, c), "prompt", sound, "valid", "-")
		})
	}
}

// wavSamples returns the number of 16-bit mono samples of a WAV file: its
// data chunk's size in bytes, halved.
func wavSamples(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:i+8]))
		if id == "data" {
			return size / 2
		}
		i += 8 + size + size%2
	}
	t.Fatalf("%s has no data chunk", path)
	return 0
}
