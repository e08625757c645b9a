package agi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load side of the CPU and memory benchmarks runs in a child process (this
// test binary again, with benchChildEnv set), so the server's own CPU
// accounting and memory statistics hold the server alone.
const benchChildEnv = "AGI_BENCH_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(benchChildEnv); mode != "" {
		if err := benchChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchChild plays Asterisk with a minimal client: "calls ADDR N CONC" runs N
// six-command calls, CONC at a time; "hold ADDR N" opens N calls, waits until
// each has its GET DATA, prints "ready" and holds them until stdin closes.
func benchChild(mode string) error {
	raiseFileLimit()
	f := strings.Fields(mode)
	addr := f[1]
	n, _ := strconv.Atoi(f[2])
	env := []byte(envBlock)
	switch f[0] {
	case "calls":
		conc, _ := strconv.Atoi(f[3])
		jobs := make(chan struct{}, n)
		for range n {
			jobs <- struct{}{}
		}
		close(jobs)
		var wg sync.WaitGroup
		errc := make(chan error, conc)
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					if err := fastCall(addr, env); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		return <-errc
	case "hold":
		conns := make([]net.Conn, 0, n)
		buf := make([]byte, 64)
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return err
			}
			c.Write(env)
			conns = append(conns, c)
		}
		for _, c := range conns {
			if _, err := io.ReadAtLeast(c, buf, len("GET DATA x 1 1\n")); err != nil {
				return err
			}
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		for _, c := range conns {
			c.Close()
		}
	}
	return nil
}

// fastCall answers every command with the reply Asterisk would give, as
// cheaply as possible, and ends like Asterisk: HANGUP after the server's FIN.
func fastCall(addr string, env []byte) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(env); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c, 256)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			c.Write([]byte("HANGUP\n"))
			return nil
		}
		var reply string
		switch {
		case bytes.HasPrefix(line, []byte("GET DATA")):
			reply = "200 result=1234\n"
		case bytes.HasPrefix(line, []byte("GET VARIABLE")):
			reply = "200 result=1 (1234)\n"
		case bytes.HasPrefix(line, []byte("STREAM FILE")):
			reply = "200 result=0 endpos=3404\n"
		default:
			reply = "200 result=1\n"
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return err
		}
	}
}

// sixCommands is the call the CPU benchmark serves.
func sixCommands(s *Session, r *Request) {
	ctx := r.Context()
	s.Answer(ctx)
	in, _ := s.GetData(ctx, "enter-account", 5*time.Second, 4)
	s.SetVariable(ctx, "ACCOUNT", in.Digits)
	s.StreamFile(ctx, "thank-you", "")
	s.GetVariable(ctx, "CHANNEL(linkedid)")
	s.Verbose(ctx, "done", 1)
}

func startChild(b *testing.B, mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// BenchmarkCallCPU serves 20,000 six-command calls, 50 at a time, played by
// a child process, and reports the server process's own CPU time per call
// (getrusage: user and system), its heap allocations per call and, where
// /proc/self/task/*/io exists, its read and write system calls per call.
// Run it with -benchtime 1x.
func BenchmarkCallCPU(b *testing.B) {
	raiseFileLimit()
	const calls, conc = 20000, 50
	for b.Loop() {
		srv := &Server{Handler: HandlerFunc(sixCommands)}
		l, err := Listen("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go srv.Serve(l)
		// Warm up (the runtime, the listener backlog) with a short run.
		if err := startChild(b, fmt.Sprintf("calls %s %d %d", l.Addr(), 500, conc)).Run(); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		r0, w0 := ioCalls()
		u0, s0 := rusage()
		start := time.Now()
		if err := startChild(b, fmt.Sprintf("calls %s %d %d", l.Addr(), calls, conc)).Run(); err != nil {
			b.Fatal(err)
		}
		wall := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		srv.Shutdown(ctx)
		cancel()
		u1, s1 := rusage()
		r1, w1 := ioCalls()
		runtime.ReadMemStats(&m1)
		user, sys := (u1-u0)/calls, (s1-s0)/calls
		b.ReportMetric(float64(user+sys)/1e3, "server-cpu-µs/call")
		b.ReportMetric(float64(user)/1e3, "user-µs/call")
		b.ReportMetric(float64(sys)/1e3, "sys-µs/call")
		b.ReportMetric(float64(calls)/wall.Seconds(), "calls/s")
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/calls, "allocs/call")
		b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/calls, "B/call")
		if r0 >= 0 && r1 >= 0 {
			b.ReportMetric(float64(r1-r0)/calls, "reads/call")
			b.ReportMetric(float64(w1-w0)/calls, "writes/call")
		}
	}
}

// ioCalls returns the read and write system calls of this process's threads
// so far (syscr and syscw of /proc/self/task/*/io: the process's own file
// would add those of the reaped child), or -1 where those files are missing.
func ioCalls() (reads, writes int64) {
	files, _ := filepath.Glob("/proc/self/task/*/io")
	if len(files) == 0 {
		return -1, -1
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that just ended
		}
		for line := range strings.Lines(string(data)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "syscr":
				reads += n
			case "syscw":
				writes += n
			}
		}
	}
	return reads, writes
}

// BenchmarkIdleSessions holds 10,000 calls waiting in GET DATA (played by a
// child process) and reports the server's heap and stack in use per call,
// after a GC, over the idle server's. Run it with -benchtime 1x.
func BenchmarkIdleSessions(b *testing.B) {
	raiseFileLimit()
	const calls = 10000
	for b.Loop() {
		wait := make(chan struct{})
		srv := &Server{Handler: HandlerFunc(func(s *Session, r *Request) {
			s.GetData(r.Context(), "x", time.Second, 1)
		})}
		_ = wait
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go srv.Serve(l)
		before := memInUse()
		g0 := runtime.NumGoroutine()
		child := startChild(b, fmt.Sprintf("hold %s %d", l.Addr(), calls))
		stdin, _ := child.StdinPipe()
		stdout, _ := child.StdoutPipe()
		if err := child.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			b.Fatalf("child: %q %v", line, err)
		}
		// The child has every GET DATA; wait until the server is parked too.
		time.Sleep(500 * time.Millisecond)
		after := memInUse()
		g1 := runtime.NumGoroutine()
		perCall := float64(after.heap+after.stack-before.heap-before.stack) / calls
		b.ReportMetric(perCall/1024, "KiB/call")
		b.ReportMetric(float64(after.heap-before.heap)/calls/1024, "heap-KiB/call")
		b.ReportMetric(float64(after.stack-before.stack)/calls/1024, "stack-KiB/call")
		b.ReportMetric(float64(g1-g0)/calls, "goroutines/call")
		b.ReportMetric(float64(after.heap+after.stack)/(1<<20), "MiB-in-use")
		stdin.Close()
		child.Wait()
		srv.Close()
	}
}

type memStat struct{ heap, stack uint64 }

func memInUse() memStat {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memStat{heap: ms.HeapInuse, stack: ms.StackInuse}
}

// BenchmarkRoundTrip measures one command and its reply over loopback, the
// Asterisk side answering at once from another goroutine.
func BenchmarkRoundTrip(b *testing.B) {
	done := make(chan struct{})
	srv := &Server{Handler: HandlerFunc(func(s *Session, r *Request) {
		ctx := r.Context()
		b.ResetTimer()
		for range b.N {
			if _, _, err := s.GetVariable(ctx, "X"); err != nil {
				b.Error(err)
				break
			}
		}
		b.StopTimer()
		close(done)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	b.ReportAllocs()
	go fastCall(l.Addr().String(), []byte(envBlock))
	<-done
}

func BenchmarkParseReply(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, _ := ParseReply("STREAM FILE", "200 result=53 endpos=17760")
		r.Attr("endpos")
	}
}

func BenchmarkParseEnv(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(envBlock)))
	lr := newLineReader(nil, 1024, 0)
	var scratch []byte
	rd := strings.NewReader(envBlock)
	for b.Loop() {
		rd.Reset(envBlock)
		lr.rd, lr.r, lr.w = rd, 0, 0
		if _, err := readEnv(lr, &scratch, 0); err != nil {
			b.Fatal(err)
		}
	}
}
