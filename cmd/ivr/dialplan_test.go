package main

import (
	"bytes"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
)

// codeBlocks returns the fenced code blocks of a Markdown file, without their
// fences and with the indentation of a block in a list item removed.
func codeBlocks(t *testing.T, path string) []string {
	t.Helper()
	var blocks []string
	for _, b := range docBlocks(t, path) {
		blocks = append(blocks, strings.Join(b.lines, "\n")+"\n")
	}
	return blocks
}

// dialplanBlock returns the code block of a Markdown file that defines the
// context [from-phones].
func dialplanBlock(t *testing.T, path string) string {
	t.Helper()
	for _, b := range codeBlocks(t, path) {
		if strings.HasPrefix(b, "[from-phones]\n") {
			return b
		}
	}
	t.Fatalf("%s has no dialplan block starting with [from-phones]", path)
	return ""
}

// The README and docs/asterisk.md show the dialplan that ivr dev prints, all
// of it, so what a user pastes from one is what the others say.
func TestDialplanOfTheDocsIsTheOneDevPrints(t *testing.T) {
	for _, path := range []string{"../../README.md", "../../docs/asterisk.md"} {
		if got := dialplanBlock(t, path); got != dialplan {
			t.Errorf("the dialplan of %s differs from cmd/ivr/dialplan.conf, which ivr dev prints:\n%s\nwant:\n%s", path, got, dialplan)
		}
	}

	var out bytes.Buffer
	printWelcome(&out, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 4600}, nil, loopback(), nil)
	if !strings.Contains(out.String(), "\n\n"+strings.ReplaceAll(dialplan, "ivr-host", "192.0.2.10:4600")) ||
		strings.Contains(out.String(), "ivr-host") {
		t.Errorf("ivr dev does not print the whole dialplan with its address:\n%s", out.String())
	}
	out.Reset()
	printWelcome(&out, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 4573}, nil, loopback(), nil)
	if !strings.Contains(out.String(), "AGI(agi://192.0.2.10/ivr?menu=main)") {
		t.Errorf("on the default port the address has no port:\n%s", out.String())
	}
}

var (
	agiIVR      = regexp.MustCompile(`AGI\(h?agi://[^/]+/ivr[?/]`)
	onError     = regexp.MustCompile(`^same => n,GotoIf\(\$\["\$\{IVR_RESULT\}" = "error"\]\?(\w+)\)$`)
	onFailure   = regexp.MustCompile(`^same => n,GotoIf\(\$\["\$\{AGISTATUS\}" != "SUCCESS" \| "\$\{IVR_RESULT\}" = ""\]\?(\w+)\)$`)
	labelLine   = regexp.MustCompile(`^same => n\((\w+)\),`)
	toOperator  = regexp.MustCompile(`Goto\(transfers,operator,1\)$`)
	playsSorry  = regexp.MustCompile(`Playback\(tt-somethingwrong\)$`)
	commentLine = regexp.MustCompile(`^\s*;`)
)

// fallsBack checks that after the IVR, dialplan hands the caller to the
// operator when ivr failed during the call (IVR_RESULT=error, without a second
// apology), and when it could not take the call (AGISTATUS not SUCCESS) or
// stopped during it (no IVR_RESULT), with one.
func fallsBack(dialplan string) string {
	var lines []string
	for l := range strings.SplitSeq(dialplan, "\n") {
		if l = strings.TrimSpace(l); l != "" && !commentLine.MatchString(l) {
			lines = append(lines, l)
		}
	}
	// reaches follows the priorities from label on and reports whether the
	// operator is reached, and whether tt-somethingwrong is played on the way.
	reaches := func(label string) (operator, sorry bool) {
		for i, l := range lines {
			if m := labelLine.FindStringSubmatch(l); m == nil || m[1] != label {
				continue
			}
			for _, l := range lines[i:] {
				sorry = sorry || playsSorry.MatchString(l)
				if toOperator.MatchString(l) {
					return true, sorry
				}
				if !strings.HasPrefix(l, "same =>") || strings.Contains(l, "Hangup()") {
					break
				}
			}
		}
		return false, sorry
	}
	n := 0
	for i, l := range lines {
		if !agiIVR.MatchString(l) {
			continue
		}
		n++
		if i+2 >= len(lines) {
			return "the dialplan ends after " + l
		}
		e, f := onError.FindStringSubmatch(lines[i+1]), onFailure.FindStringSubmatch(lines[i+2])
		if e == nil || f == nil {
			return "after " + l + " the next priorities must go on with IVR_RESULT=error, then AGISTATUS != SUCCESS or no IVR_RESULT"
		}
		if op, sorry := reaches(e[1]); !op || sorry {
			return "IVR_RESULT=error must lead to Goto(transfers,operator,1) without a second tt-somethingwrong"
		}
		if op, sorry := reaches(f[1]); !op || !sorry {
			return "AGISTATUS != SUCCESS and no IVR_RESULT must play tt-somethingwrong and lead to Goto(transfers,operator,1)"
		}
	}
	if n == 0 {
		return "no AGI(agi://.../ivr...) at all"
	}
	return ""
}

// Every dialplan the project ships hands the caller to a person when the IVR
// could not serve them, whichever way it failed.
func TestDialplansFallBackToAPerson(t *testing.T) {
	ext, err := os.ReadFile("../../deploy/asterisk/extensions.conf")
	if err != nil {
		t.Fatal(err)
	}
	plans := map[string]string{
		"cmd/ivr/dialplan.conf (README, docs/asterisk.md, ivr dev)": dialplan,
		"docs/ivr.md":                     dialplanBlock(t, "../../docs/ivr.md"),
		"deploy/asterisk/extensions.conf": string(ext),
	}
	for _, b := range codeBlocks(t, "../../docs/asterisk.md") {
		if agiIVR.MatchString(b) && b != dialplan {
			plans["docs/asterisk.md: "+strings.SplitN(b, "\n", 2)[0]] = b
		}
	}
	for name, plan := range plans {
		if msg := fallsBack(plan); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
	}
	// The checker itself: the dialplan as it was before it handled IVR_RESULT=error.
	old := strings.Replace(dialplan, " same => n,GotoIf($[\"${IVR_RESULT}\" = \"error\"]?operator)\n", "", 1)
	if fallsBack(old) == "" {
		t.Error("a dialplan that hangs up after IVR_RESULT=error passes the check")
	}
	// And as it was before it handled a server that stops during the call.
	old = strings.Replace(dialplan, ` | "${IVR_RESULT}" = ""]`, "]", 1)
	if old == dialplan || fallsBack(old) == "" {
		t.Error("a dialplan that hangs up when ivr stopped without a result passes the check")
	}
}
