//go:build asterisk

package livetest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// event is one AMI event or response: its header lines by name.
type event map[string]string

// ami is a connection to Asterisk's manager interface. It keeps every event of
// every channel by the channel's uniqueid until the test ends.
type ami struct {
	conn net.Conn
	wmu  sync.Mutex // serialises writes

	mu        sync.Mutex
	channels  map[string]*channelEvents // by Uniqueid
	responses map[string]chan event     // by ActionID
	nextID    int
	err       error // why the reader stopped
	done      chan struct{}
}

// channelEvents are the events of one channel, and whether it has hung up.
type channelEvents struct {
	events []event
	ended  chan struct{} // closed on Hangup, or when the originate failed
	closed bool
}

// dialAMI connects to the AMI on 127.0.0.1:port and logs in as test/test.
func dialAMI(port int) (*ami, error) {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("AMI: %w", err)
	}
	a := &ami{conn: conn, channels: map[string]*channelEvents{}, responses: map[string]chan event{}, done: make(chan struct{})}
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil { // "Asterisk Call Manager/..."
		conn.Close()
		return nil, fmt.Errorf("AMI greeting: %w", err)
	}
	go a.read(r)
	resp, err := a.action(event{"Action": "Login", "Username": "test", "Secret": "test", "Events": "on"})
	if err != nil {
		a.close()
		return nil, err
	}
	if resp["Response"] != "Success" {
		a.close()
		return nil, fmt.Errorf("AMI login: %s", resp["Message"])
	}
	return a, nil
}

// close ends the connection and waits for the reader.
func (a *ami) close() {
	a.conn.Close()
	<-a.done
}

// read reads messages until the connection ends and files each one.
func (a *ami) read(r *bufio.Reader) {
	defer close(a.done)
	msg := event{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			a.mu.Lock()
			a.err = err
			a.mu.Unlock()
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if len(msg) > 0 {
				a.file(msg)
			}
			msg = event{}
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			msg[k] = v
		} else if k, ok := strings.CutSuffix(line, ":"); ok {
			msg[k] = ""
		}
	}
}

// file hands a response to the action waiting for it and keeps an event with
// its channel.
func (a *ami) file(m event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := m["Response"]; ok && m["Event"] == "" {
		if ch, ok := a.responses[m["ActionID"]]; ok {
			delete(a.responses, m["ActionID"])
			ch <- m
		}
		return
	}
	id := m["Uniqueid"]
	if id == "" {
		return
	}
	c := a.channel(id)
	c.events = append(c.events, m)
	switch {
	case m["Event"] == "Hangup",
		m["Event"] == "OriginateResponse" && m["Response"] != "Success":
		if !c.closed {
			c.closed = true
			close(c.ended)
		}
	}
}

// channel returns the events of the channel id, made on first use; a.mu is held.
func (a *ami) channel(id string) *channelEvents {
	c, ok := a.channels[id]
	if !ok {
		c = &channelEvents{ended: make(chan struct{})}
		a.channels[id] = c
	}
	return c
}

// action sends an action and waits up to 10 seconds for its response.
func (a *ami) action(m event) (event, error) {
	ch := make(chan event, 1)
	a.mu.Lock()
	a.nextID++
	id := "lt-" + strconv.Itoa(a.nextID)
	a.responses[id] = ch
	a.mu.Unlock()
	var b strings.Builder
	b.WriteString("Action: " + m["Action"] + "\r\n")
	b.WriteString("ActionID: " + id + "\r\n")
	for k, v := range m {
		if k != "Action" {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	a.wmu.Lock()
	_, err := a.conn.Write([]byte(b.String()))
	a.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("AMI %s: %w", m["Action"], err)
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-a.done:
		return nil, fmt.Errorf("AMI %s: connection ended: %v", m["Action"], a.err)
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("AMI %s: no response in 10s", m["Action"])
	}
}

// originate places a call: the caller leg Local/<leg>@dtmfsim (see the kit's
// README) calls exten@context with the caller ID callerID ("" for none). The
// channel that runs the dialplan gets the uniqueid id.
func (a *ami) originate(id, leg, context, exten, callerID string) error {
	m := event{
		"Action":    "Originate",
		"Channel":   "Local/" + leg + "@dtmfsim",
		"Context":   context,
		"Exten":     exten,
		"Priority":  "1",
		"ChannelId": id,
		"Async":     "true",
		"Timeout":   "10000",
	}
	if callerID != "" {
		m["CallerID"] = callerID
	}
	resp, err := a.action(m)
	if err != nil {
		return err
	}
	if resp["Response"] != "Success" {
		return fmt.Errorf("originate %s: %s", id, resp["Message"])
	}
	return nil
}

// errCallTimeout is returned by wait when the channel did not hang up in time.
var errCallTimeout = errors.New("the call did not end in time")

// wait waits until the channel id hangs up (or its originate failed) or the
// timeout passes, and returns its events so far.
func (a *ami) wait(id string, timeout time.Duration) (calllog, error) {
	a.mu.Lock()
	c := a.channel(id)
	a.mu.Unlock()
	var err error
	select {
	case <-c.ended:
	case <-time.After(timeout):
		err = errCallTimeout
	}
	return a.events(id), err
}

// events returns a copy of the events of the channel id so far.
func (a *ami) events(id string) calllog {
	a.mu.Lock()
	defer a.mu.Unlock()
	return calllog{id: id, events: append([]event(nil), a.channel(id).events...)}
}

// calllog is what the dialplan of one call did, as AMI reported it.
type calllog struct {
	id     string
	events []event
}

// lastVar returns the last value the dialplan variable name was set to, and
// whether it was set at all.
func (l calllog) lastVar(name string) (string, bool) {
	v, ok := "", false
	for _, e := range l.events {
		if e["Event"] == "VarSet" && e["Variable"] == name {
			v, ok = e["Value"], true
		}
	}
	return v, ok
}

// values returns every value the variable name was set to, in order.
func (l calllog) values(name string) []string {
	var vs []string
	for _, e := range l.events {
		if e["Event"] == "VarSet" && e["Variable"] == name {
			vs = append(vs, e["Value"])
		}
	}
	return vs
}

// ran reports whether the dialplan executed app (with data containing
// dataHas) in context, any extension when exten is "".
func (l calllog) ran(context, exten, app, dataHas string) bool {
	for _, e := range l.events {
		if e["Event"] != "Newexten" || e["Context"] != context || (exten != "" && e["Exten"] != exten) {
			continue
		}
		if (app == "" || strings.EqualFold(e["Application"], app)) && strings.Contains(e["AppData"], dataHas) {
			return true
		}
	}
	return false
}

// reached reports whether the dialplan entered exten in context.
func (l calllog) reached(context, exten string) bool { return l.ran(context, exten, "", "") }

// callerName returns the last caller ID name the channel got.
func (l calllog) callerName() string {
	name := ""
	for _, e := range l.events {
		if e["Event"] == "NewCallerid" {
			name = e["CallerIDName"]
		}
	}
	return name
}

// channel returns the name of the call's channel (Local/...;1).
func (l calllog) channel() string {
	for _, e := range l.events {
		if e["Uniqueid"] == l.id && e["Channel"] != "" {
			return e["Channel"]
		}
	}
	return ""
}

// hangupCause returns the cause text of the channel's hangup.
func (l calllog) hangupCause() string {
	for _, e := range l.events {
		if e["Event"] == "Hangup" {
			return e["Cause-txt"]
		}
	}
	return ""
}

// String lists the dialplan steps and the variables set, for failure messages.
func (l calllog) String() string {
	var b strings.Builder
	for _, e := range l.events {
		switch e["Event"] {
		case "Newexten":
			fmt.Fprintf(&b, "  %s,%s,%s %s(%s)\n", e["Context"], e["Exten"], e["Priority"], e["Application"], e["AppData"])
		case "VarSet":
			if strings.HasPrefix(e["Variable"], "IVR_") || strings.HasPrefix(e["Variable"], "AGI") {
				fmt.Fprintf(&b, "    %s=%s\n", e["Variable"], e["Value"])
			}
		case "Hangup":
			fmt.Fprintf(&b, "  hangup: %s\n", e["Cause-txt"])
		case "AGIExecStart":
			fmt.Fprintf(&b, "    agi: %s\n", e["Command"])
		case "AGIExecEnd":
			fmt.Fprintf(&b, "    agi: -> %s\n", e["Result"])
		case "OriginateResponse":
			fmt.Fprintf(&b, "  originate: %s (%s)\n", e["Response"], e["Reason"])
		}
	}
	return b.String()
}

// agiCommands returns the AGI commands ivr sent on the channel, in order.
func (l calllog) agiCommands() []string {
	var cs []string
	for _, e := range l.events {
		if e["Event"] == "AGIExecStart" {
			cs = append(cs, e["Command"])
		}
	}
	return cs
}

// played reports whether ivr sent a command that plays the sound prompt
// (STREAM FILE, GET DATA) on the channel.
func (l calllog) played(prompt string) bool {
	for _, c := range l.agiCommands() {
		f := strings.Fields(c)
		if len(f) >= 3 && (strings.EqualFold(f[0]+" "+f[1], "STREAM FILE") || strings.EqualFold(f[0]+" "+f[1], "GET DATA")) &&
			strings.Trim(f[2], `"`) == prompt {
			return true
		}
	}
	return false
}
