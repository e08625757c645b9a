package agi

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Input is what a caller typed for GET DATA.
type Input struct {
	Digits   string // the keys in order, leading zeros and '*' kept; '#' ends input and is never included
	TimedOut bool   // the caller stopped typing before maxDigits or '#'
	Secret   bool   // the digits are secret (GetSecretData): String and LogValue mask them
}

// String returns the digits, or "***" when the input is secret.
func (in Input) String() string {
	if in.Secret {
		return "***"
	}
	return in.Digits
}

// LogValue logs the digits (masked when secret) and the timeout flag.
func (in Input) LogValue() slog.Value {
	return slog.GroupValue(slog.String("digits", in.String()), slog.Bool("timed_out", in.TimedOut))
}

// Playback is the outcome of STREAM FILE, the SAY family and the other
// commands that play audio a key can interrupt.
type Playback struct {
	Key    rune  // the key that interrupted playback, 0 when none did
	EndPos int64 // samples played, when Asterisk reports it
}

// RecordOptions are the arguments of RECORD FILE.
type RecordOptions struct {
	Path         string        // without extension; relative to Asterisk's sounds directory unless absolute, on the Asterisk host
	Format       string        // file format and extension: "wav", "gsm", "ulaw" ...; "" means "wav"
	EscapeDigits string        // keys that stop the recording; "" means none
	MaxDuration  time.Duration // 0 or negative means no limit (-1)
	Silence      time.Duration // stop after this much silence, rounded up to seconds; 0 means never
	Beep         bool          // play a beep before recording
	Offset       int64         // samples to seek to before recording
}

// RecordReason says why a recording ended.
type RecordReason string

// The reasons of Recording.Reason, as Asterisk reports them.
const (
	RecordDTMF        RecordReason = "dtmf"        // an escape key was pressed
	RecordTimeout     RecordReason = "timeout"     // the maximum duration or the silence limit was reached
	RecordHangup      RecordReason = "hangup"      // the caller hung up; the partial file is kept
	RecordWriteFile   RecordReason = "writefile"   // Asterisk could not create the file
	RecordRandomError RecordReason = "randomerror" // the beep failed, or a key arrived during it
	RecordWaitFor     RecordReason = "waitfor"     // reading the channel failed
)

// Recording is the outcome of RECORD FILE.
type Recording struct {
	Reason   RecordReason  // why it ended
	Key      rune          // the escape key pressed (Reason RecordDTMF), else 0
	EndPos   int64         // samples written
	Duration time.Duration // EndPos at the format's sample rate (8 kHz for wav, gsm, ulaw ...)
}

// ChannelState is the result of CHANNEL STATUS.
type ChannelState int

// The channel states of CHANNEL STATUS.
const (
	ChannelDown ChannelState = iota
	ChannelReserved
	ChannelOffHook
	ChannelDialing
	ChannelRing
	ChannelRinging
	ChannelUp
	ChannelBusy
)

// String names the state.
func (c ChannelState) String() string {
	names := [...]string{"down", "reserved", "offhook", "dialing", "ring", "ringing", "up", "busy"}
	if c >= 0 && int(c) < len(names) {
		return names[c]
	}
	return "state(" + strconv.Itoa(int(c)) + ")"
}

// Answer answers the channel.
func (s *Session) Answer(ctx context.Context) error {
	s.cmd.reset("ANSWER")
	_, err := s.do(ctx, minusOne, "")
	return err
}

// Hangup hangs up the channel. Asterisk then sends HANGUP, which cancels
// r.Context(); dead-channel commands still work afterwards.
func (s *Session) Hangup(ctx context.Context) error {
	s.cmd.reset("HANGUP")
	_, err := s.do(ctx, 0, "")
	if err == nil {
		s.markHungup()
	}
	return err
}

// GetData plays prompt (one sound file; "" plays nothing) and collects up to
// maxDigits keys; the caller ends early with '#'. timeout is the wait
// for each key: 0 means Asterisk's default (6 s for the first, 2 s between
// keys), negative means forever; maxDigits 0 means Asterisk's default (1024).
// A caller who typed nothing gets Input{TimedOut: true} or, after a lone '#',
// an empty Input. It returns ErrHangup when the channel hung up, a
// *PromptError when the prompt could not be played, and ErrBadArgument, with
// nothing sent, for a prompt joining several files with '&' (Asterisk would
// look for one file of that name): play those with StreamFile first, with the
// input's keys as escape digits.
func (s *Session) GetData(ctx context.Context, prompt string, timeout time.Duration, maxDigits int) (Input, error) {
	return s.getData(ctx, prompt, timeout, maxDigits, 0)
}

// GetSecretData is GetData for secret input such as a PIN: the digits are
// masked in the protocol debug log and in the Input's String and LogValue.
func (s *Session) GetSecretData(ctx context.Context, prompt string, timeout time.Duration, maxDigits int) (Input, error) {
	return s.getData(ctx, prompt, timeout, maxDigits, secretIn)
}

func (s *Session) getData(ctx context.Context, prompt string, timeout time.Duration, maxDigits int, fl cmdFlags) (Input, error) {
	s.cmd.reset("GET DATA")
	s.cmd.file(prompt)
	s.cmd.ms(timeout)
	if maxDigits > 0 {
		s.cmd.int(int64(maxDigits))
	}
	s.cmd.wait = getDataWait(timeout, maxDigits)
	rep, err := s.do(ctx, fl|playsFile, prompt)
	in := Input{Secret: fl&secretIn != 0}
	if err != nil {
		return in, err
	}
	in.Digits, in.TimedOut = rep.Result, rep.Data == "timeout"
	return in, nil
}

// StreamFile plays file; a key in escapeDigits interrupts it and is returned
// in Playback.Key. It returns ErrHangup when the channel hung up and a
// *PromptError when the file could not be played.
func (s *Session) StreamFile(ctx context.Context, file, escapeDigits string) (Playback, error) {
	return s.streamFile(ctx, file, escapeDigits, 0, 0)
}

// StreamSecretFile is StreamFile for a prompt played before a secret input
// such as a PIN: a key that interrupts it is the input's first digit, so it
// is masked in the protocol debug log.
func (s *Session) StreamSecretFile(ctx context.Context, file, escapeDigits string) (Playback, error) {
	return s.streamFile(ctx, file, escapeDigits, 0, secretKey)
}

func (s *Session) streamFile(ctx context.Context, file, escapeDigits string, offset int64, fl cmdFlags) (Playback, error) {
	s.cmd.reset("STREAM FILE")
	s.cmd.file(file)
	s.cmd.str(escapeDigits)
	if offset > 0 {
		s.cmd.int(offset)
	}
	return s.playback(ctx, fl|playsFile, file)
}

// ControlStreamOptions are the arguments of CONTROL STREAM FILE.
type ControlStreamOptions struct {
	File         string
	EscapeDigits string        // keys that end playback
	Skip         time.Duration // how far the forward and rewind keys jump; 0 means Asterisk's 3 s
	Forward      string        // key to skip forward; "" means Asterisk's "#"
	Rewind       string        // key to rewind; "" means Asterisk's "*"
	Pause        string        // key to pause and resume; "" means none
	Offset       time.Duration // where to start, in whole milliseconds
}

// ControlPlayback is the outcome of CONTROL STREAM FILE.
type ControlPlayback struct {
	Key    rune          // the escape key that ended playback, 0 when none did
	AtEnd  bool          // the file played to its end
	Offset time.Duration // where playback stopped, when not AtEnd: pass it as the next Offset to resume
}

// ControlStreamFile plays a file the caller can skip, rewind and pause. It
// returns ErrHangup when the channel hung up and a *PromptError when the file
// could not be played.
func (s *Session) ControlStreamFile(ctx context.Context, o ControlStreamOptions) (ControlPlayback, error) {
	s.cmd.reset("CONTROL STREAM FILE")
	s.cmd.file(o.File)
	s.cmd.str(o.EscapeDigits)
	if o.Skip > 0 || o.Forward != "" || o.Rewind != "" || o.Pause != "" || o.Offset > 0 {
		skip := o.Skip
		if skip <= 0 {
			skip = 3 * time.Second
		}
		s.cmd.ms(skip)
		s.cmd.str(cmp.Or(o.Forward, "#"))
		s.cmd.str(cmp.Or(o.Rewind, "*"))
		if o.Pause != "" || o.Offset > 0 {
			s.cmd.str(o.Pause)
		}
		if o.Offset > 0 {
			s.cmd.ms(o.Offset)
		}
	}
	if o.Pause != "" {
		s.cmd.wait = unbounded // the caller may pause for as long as he likes
	}
	// Unlike STREAM FILE's, this endpos is CPLAYBACKOFFSET: milliseconds,
	// and -1 at the end of the file.
	pb, err := s.playback(ctx, playsFile, o.File)
	cp := ControlPlayback{Key: pb.Key, AtEnd: pb.EndPos < 0}
	if !cp.AtEnd {
		cp.Offset = time.Duration(pb.EndPos) * time.Millisecond
	}
	return cp, err
}

// GetOption is StreamFile followed by a wait for a key: up to timeout after
// the file ends (0 means Asterisk's default of 5 s). Errors are those of
// StreamFile.
func (s *Session) GetOption(ctx context.Context, file, escapeDigits string, timeout time.Duration) (Playback, error) {
	s.cmd.reset("GET OPTION")
	s.cmd.file(file)
	s.cmd.str(escapeDigits)
	if timeout != 0 {
		s.cmd.ms(timeout)
	}
	s.cmd.wait = waitFor(cmp.Or(timeout, 5*time.Second), false)
	return s.playback(ctx, playsFile, file)
}

// playback runs a command whose result is a key (as its ASCII code) and an
// optional endpos.
func (s *Session) playback(ctx context.Context, fl cmdFlags, prompt string) (Playback, error) {
	rep, err := s.do(ctx, fl, prompt)
	var pb Playback
	if v, ok := rep.Attr("endpos"); ok {
		pb.EndPos, _ = parseInt(v)
	}
	if err != nil {
		return pb, err
	}
	pb.Key, err = keyResult(s.cmd.name, rep)
	if err != nil && fl&secretKey != 0 {
		err = fmt.Errorf("agi: %s: unexpected result %q", s.cmd.name, redactSecret(rep.Result, false))
	}
	return pb, err
}

// keyResult decodes a result that is 0 or a key's ASCII code.
func keyResult(cmd string, rep Reply) (rune, error) {
	n, ok := parseInt(rep.Result)
	if !ok || n < 0 || n > 255 {
		return 0, fmt.Errorf("agi: %s: unexpected result %q", cmd, rep.Result)
	}
	return rune(n), nil
}

// WaitForDigit waits up to timeout (negative: forever) for a key and returns
// it, or 0 when none came.
func (s *Session) WaitForDigit(ctx context.Context, timeout time.Duration) (key rune, err error) {
	s.cmd.reset("WAIT FOR DIGIT")
	s.cmd.ms(timeout)
	s.cmd.wait = waitFor(timeout, false)
	rep, err := s.do(ctx, minusOne, "")
	if err != nil {
		return 0, err
	}
	return keyResult("WAIT FOR DIGIT", rep)
}

// RecordFile records the caller to a file on the Asterisk host. A hangup
// returns the Recording so far (Reason RecordHangup, EndPos) together with
// ErrHangup. A file Asterisk cannot create returns Reason RecordWriteFile and
// no error, so the caller decides; other reasons are in Recording.Reason.
func (s *Session) RecordFile(ctx context.Context, o RecordOptions) (Recording, error) {
	format := cmp.Or(o.Format, "wav")
	s.cmd.reset("RECORD FILE")
	s.cmd.file(o.Path)
	s.cmd.str(format)
	s.cmd.str(o.EscapeDigits)
	if o.MaxDuration > 0 {
		s.cmd.ms(o.MaxDuration)
	} else {
		s.cmd.int(-1)
	}
	if o.Offset > 0 || o.Beep || o.Silence > 0 {
		s.cmd.int(max(o.Offset, 0))
		if o.Beep {
			s.cmd.str("BEEP")
		}
		if o.Silence > 0 {
			s.cmd.str("s=" + strconv.FormatInt(int64((o.Silence+time.Second-1)/time.Second), 10))
		}
	}
	s.cmd.wait = waitFor(o.MaxDuration, true)
	rep, err := s.do(ctx, minusOne, "")
	rec := Recording{Reason: RecordReason(rep.Data)}
	if v, ok := rep.Attr("endpos"); ok {
		rec.EndPos, _ = parseInt(v)
		rec.Duration = time.Duration(rec.EndPos) * time.Second / time.Duration(sampleRate(format))
	}
	if err != nil {
		return rec, err
	}
	if rec.Reason == RecordDTMF {
		rec.Key, err = keyResult("RECORD FILE", rep)
	}
	return rec, err
}

// sampleRate returns the samples per second of a file format.
func sampleRate(format string) int64 {
	switch strings.ToLower(format) {
	case "wav16", "sln16", "g722", "siren7":
		return 16000
	case "sln12":
		return 12000
	case "sln24":
		return 24000
	case "sln32", "siren14":
		return 32000
	case "sln44":
		return 44100
	case "sln48":
		return 48000
	case "sln96":
		return 96000
	case "sln192":
		return 192000
	}
	return 8000
}

// GetVariable returns the value of a channel variable or dialplan function
// ("CHANNEL(linkedid)") and whether it is set. It works on a dead channel.
func (s *Session) GetVariable(ctx context.Context, name string) (value string, ok bool, err error) {
	s.cmd.reset("GET VARIABLE")
	s.cmd.str(name)
	return s.value(ctx)
}

// GetFullVariable evaluates expr ("${CALLERID(all)}") on the channel and
// returns the result and whether Asterisk evaluated it. It works on a dead
// channel.
func (s *Session) GetFullVariable(ctx context.Context, expr string) (value string, ok bool, err error) {
	s.cmd.reset("GET FULL VARIABLE")
	s.cmd.str(expr)
	return s.value(ctx)
}

// value runs a command whose reply is "result=1 (value)" or "result=0".
func (s *Session) value(ctx context.Context) (string, bool, error) {
	rep, err := s.do(ctx, deadOK, "")
	if err != nil || rep.Result != "1" {
		return "", false, err
	}
	return rep.Data, true, nil
}

// SetVariable sets a channel variable, or a writable function such as
// CHANNEL(language). It works on a dead channel.
func (s *Session) SetVariable(ctx context.Context, name, value string) error {
	s.cmd.reset("SET VARIABLE")
	s.cmd.str(name)
	s.cmd.str(value)
	_, err := s.do(ctx, deadOK, "")
	return err
}

// Exec runs a dialplan application with its arguments joined by ',' and
// returns the application's result; -2 means Asterisk has no such
// application. It works on a dead channel.
func (s *Session) Exec(ctx context.Context, app string, args ...string) (result int, err error) {
	s.cmd.reset("EXEC")
	s.cmd.str(app)
	if len(args) > 0 {
		s.cmd.str(strings.Join(args, ","))
	}
	return s.intResult(ctx, deadOK)
}

func (s *Session) intResult(ctx context.Context, fl cmdFlags) (int, error) {
	rep, err := s.do(ctx, fl, "")
	if err != nil {
		return 0, err
	}
	return rep.ResultInt()
}

// simple runs a command whose only outcome is success or an error.
func (s *Session) simple(ctx context.Context, fl cmdFlags) error {
	_, err := s.do(ctx, fl, "")
	return err
}

// Verbose logs msg on the Asterisk console at level (1-4). It works on a dead
// channel.
func (s *Session) Verbose(ctx context.Context, msg string, level int) error {
	s.cmd.reset("VERBOSE")
	s.cmd.str(msg)
	s.cmd.int(int64(level))
	return s.simple(ctx, deadOK)
}

// Noop does nothing; it checks that Asterisk answers. It works on a dead channel.
func (s *Session) Noop(ctx context.Context) error {
	s.cmd.reset("NOOP")
	return s.simple(ctx, deadOK)
}

// ChannelStatus returns the state of the channel.
func (s *Session) ChannelStatus(ctx context.Context) (ChannelState, error) {
	s.cmd.reset("CHANNEL STATUS")
	n, err := s.intResult(ctx, minusOne)
	return ChannelState(n), err
}

// SayDigits says digits one by one; a key in escapeDigits interrupts.
// Asterisk answers 520 (a *CommandError) unless digits start with a number.
func (s *Session) SayDigits(ctx context.Context, digits, escapeDigits string) (Playback, error) {
	return s.say(ctx, "SAY DIGITS", digits, escapeDigits)
}

// SayNumber says n as a number; a key in escapeDigits interrupts.
func (s *Session) SayNumber(ctx context.Context, n int, escapeDigits string) (Playback, error) {
	return s.say(ctx, "SAY NUMBER", strconv.Itoa(n), escapeDigits)
}

// SayAlpha spells text letter by letter; a key in escapeDigits interrupts.
func (s *Session) SayAlpha(ctx context.Context, text, escapeDigits string) (Playback, error) {
	return s.say(ctx, "SAY ALPHA", text, escapeDigits)
}

// SayDate says the date of t; a key in escapeDigits interrupts.
func (s *Session) SayDate(ctx context.Context, t time.Time, escapeDigits string) (Playback, error) {
	return s.say(ctx, "SAY DATE", strconv.FormatInt(t.Unix(), 10), escapeDigits)
}

// SayTime says the time of day of t; a key in escapeDigits interrupts.
func (s *Session) SayTime(ctx context.Context, t time.Time, escapeDigits string) (Playback, error) {
	return s.say(ctx, "SAY TIME", strconv.FormatInt(t.Unix(), 10), escapeDigits)
}

// SayDateTime says t in an Asterisk say format in a time zone ("" means the
// Asterisk host's); a key in escapeDigits interrupts. An empty format means
// the language's default, or DefaultSayFormat when a zone is given (Asterisk
// takes the format and the zone by position).
func (s *Session) SayDateTime(ctx context.Context, t time.Time, escapeDigits, format, zone string) (Playback, error) {
	s.cmd.reset("SAY DATETIME")
	s.cmd.int(t.Unix())
	s.cmd.str(escapeDigits)
	if zone != "" {
		s.cmd.str(cmp.Or(format, DefaultSayFormat))
		s.cmd.str(zone)
	} else if format != "" {
		s.cmd.str(format)
	}
	return s.playback(ctx, playsFile, "SAY DATETIME")
}

// DefaultSayFormat is Asterisk's SAY DATETIME format for English and most
// languages: weekday, month, day, year, "at", hour, minutes, AM/PM.
const DefaultSayFormat = "ABdY 'digits/at' IMp"

func (s *Session) say(ctx context.Context, cmd, what, escapeDigits string) (Playback, error) {
	s.cmd.reset(cmd)
	s.cmd.str(what)
	s.cmd.str(escapeDigits)
	return s.playback(ctx, playsFile, what)
}

// DatabaseGet returns the value of family/key in Asterisk's database and
// whether it exists. It works on a dead channel.
func (s *Session) DatabaseGet(ctx context.Context, family, key string) (value string, ok bool, err error) {
	s.cmd.reset("DATABASE GET")
	s.cmd.str(family)
	s.cmd.str(key)
	return s.value(ctx)
}

// DatabasePut stores family/key = value in Asterisk's database. It works on a
// dead channel.
func (s *Session) DatabasePut(ctx context.Context, family, key, value string) error {
	s.cmd.reset("DATABASE PUT")
	s.cmd.str(family)
	s.cmd.str(key)
	s.cmd.str(value)
	return s.dbResult(ctx)
}

// DatabaseDel deletes family/key from Asterisk's database. It works on a dead
// channel.
func (s *Session) DatabaseDel(ctx context.Context, family, key string) error {
	s.cmd.reset("DATABASE DEL")
	s.cmd.str(family)
	s.cmd.str(key)
	return s.dbResult(ctx)
}

// DatabaseDelTree deletes family, or only keytree within it when keytree is
// not empty, from Asterisk's database, and reports whether it deleted
// anything. It works on a dead channel. Asterisk answers result=0 when it
// deleted keys and result=1 when there were none (or the database failed),
// the reverse of the other DATABASE commands.
func (s *Session) DatabaseDelTree(ctx context.Context, family, keytree string) (deleted bool, err error) {
	s.cmd.reset("DATABASE DELTREE")
	s.cmd.str(family)
	if keytree != "" {
		s.cmd.str(keytree)
	}
	rep, err := s.do(ctx, deadOK, "")
	return err == nil && rep.Result == "0", err
}

// dbResult turns result=0 of a DATABASE command into an error.
func (s *Session) dbResult(ctx context.Context) error {
	rep, err := s.do(ctx, deadOK, "")
	if err == nil && rep.Result != "1" {
		err = &CommandError{Code: 200, Command: s.cmd.name, Text: rep.Text}
	}
	return err
}

// Gosub runs the dialplan subroutine at dialContext,extension,priority with args
// (joined by ',') and returns when it does. Asterisk's "100 Trying" line is
// skipped. A missing label or a failed subroutine is a *CommandError with
// Code 200 and Asterisk's text.
func (s *Session) Gosub(ctx context.Context, dialContext, extension string, priority string, args ...string) error {
	s.cmd.reset("GOSUB")
	s.cmd.str(dialContext)
	s.cmd.str(extension)
	s.cmd.str(priority)
	if len(args) > 0 {
		s.cmd.str(strings.Join(args, ","))
	}
	rep, err := s.do(ctx, 0, "")
	if err == nil && (rep.Result != "0" || !strings.Contains(rep.rest, "complete")) {
		err = &CommandError{Code: 200, Command: "GOSUB", Text: rep.Text}
	}
	return err
}

// SetAutoHangup hangs the channel up after d (rounded down to seconds); 0
// cancels a pending automatic hangup.
func (s *Session) SetAutoHangup(ctx context.Context, d time.Duration) error {
	s.cmd.reset("SET AUTOHANGUP")
	s.cmd.int(int64(d / time.Second))
	return s.simple(ctx, 0)
}

// SetCallerID sets the caller ID of the channel ("Name <number>" or a number).
func (s *Session) SetCallerID(ctx context.Context, callerID string) error {
	s.cmd.reset("SET CALLERID")
	s.cmd.str(callerID)
	return s.simple(ctx, 0)
}

// SetContext sets the dialplan context to continue in after AGI().
func (s *Session) SetContext(ctx context.Context, dialContext string) error {
	s.cmd.reset("SET CONTEXT")
	s.cmd.str(dialContext)
	return s.simple(ctx, 0)
}

// SetExtension sets the extension to continue at after AGI().
func (s *Session) SetExtension(ctx context.Context, extension string) error {
	s.cmd.reset("SET EXTENSION")
	s.cmd.str(extension)
	return s.simple(ctx, 0)
}

// SetPriority sets the priority (a number or a label) to continue at after AGI().
func (s *Session) SetPriority(ctx context.Context, priority string) error {
	s.cmd.reset("SET PRIORITY")
	s.cmd.str(priority)
	return s.simple(ctx, 0)
}

// SetMusic turns music on hold on or off, with class ("" means the default).
func (s *Session) SetMusic(ctx context.Context, on bool, class string) error {
	s.cmd.reset("SET MUSIC")
	if on {
		s.cmd.str("on")
	} else {
		s.cmd.str("off")
	}
	if class != "" {
		s.cmd.str(class)
	}
	return s.simple(ctx, 0)
}

// commandFlags are Asterisk's AGI commands ("agi show commands"), marked
// deadOK when Asterisk still runs them on a dead channel; it answers the
// others with 511 there.
var commandFlags = map[string]cmdFlags{
	"ANSWER": 0, "ASYNCAGI BREAK": deadOK, "CHANNEL STATUS": 0, "CONTROL STREAM FILE": 0,
	"DATABASE DEL": deadOK, "DATABASE DELTREE": deadOK, "DATABASE GET": deadOK, "DATABASE PUT": deadOK,
	"EXEC": deadOK, "GET DATA": 0, "GET FULL VARIABLE": deadOK, "GET OPTION": 0, "GET VARIABLE": deadOK,
	"GOSUB": 0, "HANGUP": 0, "NOOP": deadOK, "RECEIVE CHAR": 0, "RECEIVE TEXT": 0, "RECORD FILE": 0,
	"SAY ALPHA": 0, "SAY DATE": 0, "SAY DATETIME": 0, "SAY DIGITS": 0, "SAY NUMBER": 0, "SAY PHONETIC": 0,
	"SAY TIME": 0, "SEND IMAGE": 0, "SEND TEXT": 0, "SET AUTOHANGUP": 0, "SET CALLERID": 0,
	"SET CONTEXT": 0, "SET EXTENSION": 0, "SET MUSIC": 0, "SET PRIORITY": 0, "SET VARIABLE": deadOK,
	"SPEECH ACTIVATE GRAMMAR": 0, "SPEECH CREATE": 0, "SPEECH DEACTIVATE GRAMMAR": 0,
	"SPEECH DESTROY": deadOK, "SPEECH LOAD GRAMMAR": 0, "SPEECH RECOGNIZE": 0, "SPEECH SET": 0,
	"SPEECH UNLOAD GRAMMAR": deadOK, "STREAM FILE": 0, "TDD MODE": 0, "VERBOSE": deadOK, "WAIT FOR DIGIT": 0,
}

// fileCommands are the commands whose first argument is a sound file (a file
// to write, for RECORD FILE), which Asterisk takes as one file name.
var fileCommands = map[string]bool{
	"GET DATA": true, "STREAM FILE": true, "CONTROL STREAM FILE": true, "GET OPTION": true,
	"RECORD FILE": true, "SPEECH RECOGNIZE": true,
}

// rawCommand returns the Asterisk command that a line starting with words and
// args names, found by its leading words in any case as Asterisk finds it
// ("" when it names none), and the line's arguments after the command words.
func rawCommand(words string, args []string) (name string, rest []string) {
	argv := append(strings.Fields(words), args...) // a quoted argument reads back as itself
	for n := min(len(argv), 3); n > 0; n-- {
		name := strings.ToUpper(strings.Join(argv[:n], " "))
		if _, ok := commandFlags[name]; ok {
			return name, argv[n:]
		}
	}
	return "", nil
}

// rawFlags returns the flags of a command line that starts with words and
// args: deadOK unless Asterisk refuses the command with 511 on a dead
// channel. A line that names none of its commands is answered 510 on a dead
// channel too, so it is sent.
func rawFlags(words string, args []string) cmdFlags {
	name, _ := rawCommand(words, args)
	if name == "" {
		return deadOK
	}
	return commandFlags[name] & deadOK
}

// Raw sends any command: cmd is the command words ("GET VARIABLE"), args are
// quoted as Asterisk parses them. It returns the Reply with Extra filled, or a
// *CommandError for a 5xx reply; result=-1 is returned as it is, not as
// ErrHangup. After a hangup it returns ErrHangup without a round trip for the
// commands Asterisk refuses on a dead channel (it would answer 511), and
// sends the others: those it allows there, and a command it does not know,
// which it answers 510 on a dead channel as on a live one. A cmd or arg
// containing CR, LF or NUL, or a sound file argument joining several files
// with '&', gives ErrBadArgument.
func (s *Session) Raw(ctx context.Context, cmd string, args ...string) (Reply, error) {
	words := strings.Join(strings.Fields(cmd), " ")
	s.cmd.reset(words)
	if strings.ContainsAny(cmd, "\r\n\x00") || words == "" {
		s.cmd.err = ErrBadArgument
	}
	for _, a := range args {
		s.cmd.str(a)
	}
	s.cmd.wait = unbounded // but for the commands Asterisk answers at once
	if name, rest := rawCommand(words, args); fileCommands[name] && len(rest) > 0 && s.cmd.err == nil && strings.IndexByte(rest[0], '&') >= 0 {
		s.cmd.err = fileListError(name, rest[0])
	}
	rep, err := s.do(ctx, rawFlags(words, args), "")
	if err == nil {
		rep.fillExtra()
	}
	return rep, err
}
