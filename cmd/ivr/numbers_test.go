package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNumbersAndSchedulesApply(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "surveys", "apply", "-f", "../../surveys.yaml", "--publish")
	c.ok("", "menus", "apply", "-f", "../../menus.yaml", "--publish")

	// The sample numbers use the sample schedule, so they cannot go first.
	_, stderr, err := c.run("", "numbers", "apply", "-f", "../../numbers.yaml")
	if err == nil || !strings.Contains(stderr, `../../numbers.yaml:17: number "+12125550100": schedule "office" is not defined`) {
		t.Fatalf("numbers before schedules: %v\n%s", err, stderr)
	}
	out := c.ok("", "schedules", "apply", "-f", "../../schedules.yaml", "--format", "csv")
	if out != "schedule,status,changes\noffice,new,10\n" {
		t.Errorf("schedules apply:\n%s", out)
	}
	out = c.ok("", "numbers", "apply", "-f", "../../numbers.yaml", "--format", "csv")
	if out != "number,status,changes\n+12125550100,new,5\n500,new,1\n501,new,1\n" {
		t.Errorf("numbers apply:\n%s", out)
	}
	out = c.ok("", "numbers", "apply", "-f", "../../numbers.yaml", "--format", "csv")
	if out != "number,status,changes\n+12125550100,unchanged,0\n500,unchanged,0\n501,unchanged,0\n" {
		t.Errorf("applying the same file again:\n%s", out)
	}

	// A national number is stored in E.164; a number left out is removed;
	// diff shows what apply would do, field by field.
	file := filepath.Join(t.TempDir(), "numbers.yaml")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("numbers:\n  - number: (212) 555-0100\n    menu: departments\n    schedule: office\n    closed: {action: transfer, target: night}\n  - number: \"500\"\n    menu: main\n")
	out = c.ok("", "numbers", "diff", "-f", file, "--format", "csv")
	want := "field,stored,file\n" +
		"+12125550100 menu,main,departments\n" +
		"+12125550100 language,en,\n" +
		"+12125550100 closed,message (prompt ivr/closed),transfer night\n" +
		"+12125550100 holiday,record (prompt ivr/holiday),\n" +
		"501 menu,departments,\n"
	if out != want {
		t.Errorf("numbers diff:\n%s\nwant:\n%s", out, want)
	}
	out = c.ok("", "numbers", "apply", "-f", file, "--format", "csv")
	if out != "number,status,changes\n+12125550100,changed,4\n500,unchanged,0\n501,removed,1\n" {
		t.Errorf("numbers apply with changes:\n%s", out)
	}
	if n := c.count(`SELECT count(*) FROM numbers`); n != 2 {
		t.Errorf("%d numbers stored, want 2", n)
	}

	// Every mistake of a file, with its line; nothing stored.
	write(`numbers:
  - number: "+12125550100"
    menu: nosuch
  - number: 212-555-0100
    menu: main
    schedule: weekend
    closed: {action: message}
  - number: hello
    menu: main
    holiday: {action: record}
  - number: "502"
    menu: main
    schedule: office
`)
	_, stderr, err = c.run("", "numbers", "apply", "-f", file)
	for _, want := range []string{
		`:3: number "+12125550100": menu "nosuch" is not published`,
		`:4: number "212-555-0100" is defined twice, as +12125550100 (first on line 2)`,
		`:6: number "212-555-0100": schedule "weekend" is not defined`,
		`:7: number "212-555-0100" closed: prompt is missing`,
		`:8: number "hello" is neither a phone number (region US) nor an extension`,
		`:10: number "hello": closed and holiday need a schedule`,
		`:13: number "502": with a schedule, closed says what a caller gets`,
		"7 mistakes; nothing stored",
	} {
		if !strings.Contains(stderr+err.Error(), want) {
			t.Errorf("missing %q in:\n%s%v", want, stderr, err)
		}
	}

	// A schedule a number uses cannot be left out.
	sf := filepath.Join(t.TempDir(), "schedules.yaml")
	if err := os.WriteFile(sf, []byte("schedules:\n  - key: other\n    time_zone: Europe/Berlin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("", "schedules", "apply", "-f", sf); err == nil || !strings.Contains(err.Error(), `schedule "office" is used by number +12125550100`) {
		t.Errorf("leaving out a schedule in use: %v", err)
	}

	// The export reads back as the same numbers.
	exported := c.ok("", "numbers", "export")
	write(exported)
	if out := c.ok("", "numbers", "diff", "-f", file, "--format", "csv"); out != "field,stored,file\n" {
		t.Errorf("export then diff:\n%s\n%s", exported, out)
	}
}

func TestSchedulesCheck(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "surveys", "apply", "-f", "../../surveys.yaml", "--publish")
	c.ok("", "menus", "apply", "-f", "../../menus.yaml", "--publish")
	c.ok("", "schedules", "apply", "-f", "../../schedules.yaml")
	c.ok("", "numbers", "apply", "-f", "../../numbers.yaml")
	for _, tc := range []struct{ at, want string }{
		// Christmas Eve closes early: open at noon, closed at 17:30.
		{"2026-12-24T12:00", "at,2026-12-24 12:00 EST (Thu)\nstate,open\nrule,exception 2026-12-24 (Christmas Eve) 09:00-13:00\nuntil,2026-12-24 13:00 EST (Thu)\nthen,closed\nnumber +12125550100,menu main\n"},
		{"2026-12-24T17:30", "state,closed\nrule,exception 2026-12-24 (Christmas Eve)\nuntil,2026-12-25 00:00 EST (Fri)\nthen,holiday\nnumber +12125550100,message (prompt ivr/closed)\n"},
		{"2026-12-25T10:00", "state,holiday\nrule,holiday 12-25 (Christmas Day)\nuntil,2026-12-26 00:00 EST (Sat)\nthen,closed\nnumber +12125550100,record (prompt ivr/holiday)\n"},
		// An instant with an offset: 15:00 UTC is 10:00 in New York, a Monday.
		{"2026-03-09T14:00:00Z", "state,open\nrule,hours monday 09:00-17:00\nuntil,2026-03-09 17:00 EDT (Mon)\nthen,closed\nnumber +12125550100,menu main\n"},
	} {
		out := c.ok("", "schedules", "check", "office", "--at", tc.at, "--format", "csv")
		if !strings.HasSuffix(out, tc.want) {
			t.Errorf("check --at %s:\n%s\nwant the end:\n%s", tc.at, out, tc.want)
		}
	}
	if _, _, err := c.run("", "schedules", "check", "office", "--at", "Christmas"); err == nil {
		t.Error("check --at Christmas worked")
	}
}

func TestMenuOptionSchedule(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	menus := filepath.Join(dir, "menus.yaml")
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(menus, "menus:\n  - key: desk\n    prompt: ivr/desk\n    options:\n      - digits: \"0\"\n        action: operator\n"+
		"        schedule: office\n        closed: {action: message, prompt: ivr/closed}\n")
	// Schedules first: a menu option can only name a stored one.
	if _, stderr, err := c.run("", "menus", "apply", "-f", menus); err == nil || !strings.Contains(stderr, `schedule "office" is not defined`) {
		t.Fatalf("a menu before its schedule: %v\n%s", err, stderr)
	}
	c.ok("", "schedules", "apply", "-f", "../../schedules.yaml")
	c.ok("", "menus", "apply", "-f", menus, "--publish")
	out := c.ok("", "menus", "show", "desk", "--format", "csv")
	if !strings.Contains(out, "option 0 schedule,office\n") || !strings.Contains(out, "option 0 closed,message (prompt ivr/closed)\n") {
		t.Errorf("menus show:\n%s", out)
	}
	sf := filepath.Join(dir, "schedules.yaml")
	write(sf, "schedules:\n  - key: other\n    time_zone: UTC\n")
	if _, _, err := c.run("", "schedules", "apply", "-f", sf); err == nil || !strings.Contains(err.Error(), `schedule "office" is used by a menu option`) {
		t.Errorf("leaving out a schedule a menu uses: %v", err)
	}
}
