// Package agi is a FastAGI server for Asterisk, shaped like net/http: a
// Server accepts connections, a ServeMux routes each call by its script path
// to a Handler, and the Handler drives the call through a Session whose
// methods are the AGI commands with typed results.
//
//	mux := agi.NewServeMux()
//	mux.HandleFunc("ivr/", func(s *agi.Session, r *agi.Request) {
//		ctx := r.Context() // cancelled when the caller hangs up
//		if err := s.Answer(ctx); err != nil {
//			return
//		}
//		in, err := s.GetData(ctx, "enter-account", 5*time.Second, 6)
//		switch {
//		case errors.Is(err, agi.ErrHangup):
//			return
//		case err != nil: // *agi.PromptError, *agi.CommandError ...
//			return
//		}
//		s.SetVariable(context.WithoutCancel(ctx), "ACCOUNT", in.Digits)
//	})
//	srv := &agi.Server{Addr: ":4573", Handler: mux}
//	log.Fatal(srv.ListenAndServe())
//
// # Protocol notes
//
// Asterisk opens one TCP connection per call (AGI(agi://host/ivr/main?x=1,a,b))
// and sends an environment block of "agi_key: value" lines ended by an empty
// line; Request holds it (Env, and typed fields with "unknown" turned into
// ""). Then the server sends one command line at a time, ended by "\n" (never
// "\r\n": Asterisk keeps the "\r"), and Asterisk answers each with
// "200 result=..." or an error code.
//
//   - The session never sends a command before the previous reply: a command
//     arriving during GET DATA or STREAM FILE aborts it and its reply never
//     comes. When ctx ends while a reply is due, the next command waits for it.
//   - Whoever reads takes HANGUP lines out of the stream: the handler's own
//     goroutine while a command waits for its reply, and a reader goroutine
//     that the session starts when the handler stays away from it for 10 ms.
//     Asterisk sends HANGUP when the channel hangs up (unless AGISIGHUP=no) and
//     once more when the script ends, before a reply, after it in the same
//     segment, or while the server is idle. It cancels Request.Context;
//     afterwards the commands Asterisk refuses on a dead channel (with 511)
//     return ErrHangup without being sent, and the others are sent. With
//     AGIEXITONHANGUP=yes Asterisk closes the connection after HANGUP, and
//     every command returns ErrHangup.
//   - 510, 511 and 520 replies (520 also as a multi-line usage text, read until
//     the line starting "520 ") become a *CommandError; 511 matches ErrHangup.
//     "100 Trying" lines of GOSUB are skipped.
//   - result=-1 means the channel hung up, except that GET DATA, STREAM FILE
//     and the other playing commands also answer -1 when the prompt cannot be
//     played. The session then asks CHANNEL STATUS, which Asterisk refuses with
//     511 on a dead channel, and returns ErrHangup or a *PromptError.
//   - GET DATA digits stay a string: "0123" keeps its zero, '*' is a digit,
//     "200 result= (timeout)" is no input, and '#' ends input unseen. Keys
//     interrupting STREAM FILE, WAIT FOR DIGIT or SAY come as ASCII codes and
//     are decoded to runes.
//   - Arguments are quoted as Asterisk's parse_args reads them: only '"' and
//     '\' are special, "" is an empty argument. An argument with CR, LF or NUL
//     is refused with ErrBadArgument before anything is written, so caller
//     data can never inject a command.
//   - Secret input (GetSecretData) is masked in the protocol debug log (the
//     Logger at slog.LevelDebug gets every line in and out) and in Input's
//     String and LogValue; until the next command, whatever Asterisk sends,
//     well-formed or not, has its keys masked in logs and errors.
//   - Every command has a reply timeout (Server.ReplyTimeout for commands
//     Asterisk answers at once, PromptTimeout plus the command's own wait for
//     media commands, CommandTimeout for EXEC, GOSUB and unbounded waits): a
//     peer that goes silent is closed and its call ends with OutcomeTimeout.
//   - When the handler returns, the server half-closes the connection, reads
//     what Asterisk still sends up to its last HANGUP line (one in the whole
//     call on a live channel, two after a hangup; with AGISIGHUP=no, up to
//     EOF) and closes it; the dialplan continues after AGI(). An unknown
//     script gets a "FAILURE" line, so AGISTATUS=FAILURE.
//
// The sub-package agiclient plays the Asterisk side of the protocol for tests,
// the call simulator and the load generator; agitest runs a Server on loopback
// for handler tests, as httptest does for HTTP.
package agi
