package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/app"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// memberBed is a set of fresh standalone incusd (spare.sh) in their own
// TESTBED_DIR, on their own ports, so the membership tests never touch the
// main test bed's cluster. It records every byte incus-fleet printed, so
// the test can check no secret ever left it.
type memberBed struct {
	dir   string
	ports map[string]int
	out   bytes.Buffer // stdout and stderr of every incus-fleet run
}

// memberBedDir can be moved with INCUS_FLEET_MEMBERS_DIR.
func memberBedDir() string {
	if d := os.Getenv("INCUS_FLEET_MEMBERS_DIR"); d != "" {
		return filepath.Clean(d)
	}
	return "/tmp/tb-members"
}

// newMemberBed starts the named daemons (on 127.0.0.1:port each), after
// taking a lock (two test runs on one host would share ports) and removing
// whatever a killed earlier run left. Cleanup removes them all and checks
// no incusd of this bed survives.
func newMemberBed(t *testing.T, ports map[string]int) *memberBed {
	t.Helper()
	b := &memberBed{dir: memberBedDir(), ports: ports}
	lock, err := os.OpenFile(b.dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	b.teardown(t)
	t.Cleanup(func() {
		b.teardown(t)
		if pids := b.daemons(); len(pids) > 0 {
			t.Errorf("incusd still running under %s after teardown: pids %v", b.dir, pids)
		}
		_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		lock.Close()
	})
	var wg sync.WaitGroup
	errs := make(chan error, len(ports))
	for name, port := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.script("spare.sh", "start", name, fmt.Sprint(port))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// teardown removes every daemon and directory of the bed.
func (b *memberBed) teardown(t *testing.T) {
	for name := range b.ports {
		if err := b.script("spare.sh", "remove", name); err != nil {
			t.Error(err)
		}
	}
	_ = os.Remove(b.dir) // empty by now; never a recursive delete of a mount
}

// daemons lists the pids of incusd processes whose log file is in this bed.
func (b *memberBed) daemons() []string {
	var pids []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		data, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(data, []byte("incusd")) {
			continue
		}
		if bytes.Contains(data, []byte("--logfile\x00"+b.dir+"/")) {
			pids = append(pids, filepath.Base(filepath.Dir(f)))
		}
	}
	return pids
}

// script runs a test bed script (spare.sh, member.sh) on this bed.
func (b *memberBed) script(script string, args ...string) error {
	cmd := exec.Command("bash", append([]string{filepath.Join("..", "..", "testdata", "testbed", script)}, args...)...)
	cmd.Env = append(os.Environ(), "TESTBED_DIR="+b.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", script, strings.Join(args, " "), err, out)
	}
	return nil
}

func (b *memberBed) socket(name string) string { return filepath.Join(b.dir, name, "unix.socket") }
func (b *memberBed) address(name string) string {
	return fmt.Sprintf("127.0.0.1:%d", b.ports[name])
}
func (b *memberBed) url(name string) string { return "https://" + b.address(name) }

// client is an independent Incus client on a member's socket, to check
// what incus-fleet did without trusting its reports.
func (b *memberBed) client(t *testing.T, name string) *bedClient {
	t.Helper()
	return connectBed(t, b.socket(name))
}

// call runs one protocol request on a member's own daemon through the real
// entry point and checks the response against its schema.
func (b *memberBed) call(t *testing.T, on, action string, test bool, params any) response {
	t.Helper()
	req, _ := json.Marshal(map[string]any{"version": 1, "action": action, "test": test,
		"connection": map[string]any{"socket": b.socket(on)}, "params": params})
	var out, errOut bytes.Buffer
	code := app.Main([]string{"incus-fleet", "call"}, bytes.NewReader(req), &out, &errOut)
	b.out.Write(out.Bytes())
	b.out.Write(errOut.Bytes())
	r := response{Exit: code, Raw: out.Bytes(), Stderr: errOut.String()}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%s: response is not JSON (%v): %s\nstderr: %s", action, err, out.String(), errOut.String())
	}
	var doc any
	_ = json.Unmarshal(out.Bytes(), &doc)
	if err := protocol.ValidateResponse(action, doc); err != nil {
		t.Fatalf("%s: response does not match its schema: %v\n%s", action, err, out.String())
	}
	return r
}

// cli runs an incus-fleet command line, recording its output.
func (b *memberBed) cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := app.Main(append([]string{"incus-fleet"}, args...), strings.NewReader(""), &out, &errOut)
	b.out.Write(out.Bytes())
	b.out.Write(errOut.Bytes())
	return code, out.String() + errOut.String()
}

// mbWaitFor polls cond until it holds or timeout passes.
func mbWaitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
