package incus

import (
	"os"
	"strconv"
	"strings"
)

// A lock holder's process identity: the kernel boot id, the PID namespace
// and the process start time. Only a waiter on the same boot of the same
// kernel, in the same PID namespace, can tell from /proc that the holder
// is gone; anyone else (another machine with the same host name, another
// container) judges by the record alone (lock_wait.go).

func selfIdentity() string {
	return processIdentity(os.Getpid())
}

func processIdentity(pid int) string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	start := startTime(pid)
	if start == "" {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns + "/" + start
}

// startTime is field 22 of /proc/PID/stat (clock ticks since boot); the
// command name before it may hold spaces, so fields count after its ")".
func startTime(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// holderGone reports that the holder is provably dead: it ran on this very
// kernel boot and PID namespace, and its PID is gone or now another process.
func holderGone(r lockRecord) bool {
	if r.Process == "" || r.PID <= 0 {
		return false
	}
	mine := selfIdentity()
	if mine == "" {
		return false
	}
	boot, ns, _ := splitIdentity(mine)
	hBoot, hNS, hStart := splitIdentity(r.Process)
	if hBoot != boot || hNS != ns {
		return false
	}
	return startTime(r.PID) != hStart
}

func splitIdentity(id string) (boot, ns, start string) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}
