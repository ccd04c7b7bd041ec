package incus

import (
	"strconv"
	"strings"
	"testing"
)

// TestResolveUser: Docker's rules for user: against an image's account
// files: a name's group is its primary group unless one is given, numbers
// need no entry, a missing name is an error naming the file.
func TestResolveUser(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/sh\n# comment\npostgres:x:70:70::/var/lib/postgresql:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
	group := "root:x:0:\nstaff:x:50:postgres\npostgres:x:70:\n"
	for spec, want := range map[string]string{
		"postgres":       "70 70",
		"postgres:staff": "70 50",
		"postgres:0":     "70 0",
		"70:staff":       "70 50",
		"4242:staff":     "4242 50",
		"nobody":         "65534 65534",
		"ghost":          `there is no user "ghost" in /etc/passwd`,
		"postgres:wheel": `there is no group "wheel" in /etc/group`,
		"ghost:staff":    `there is no user "ghost" in /etc/passwd`,
	} {
		uid, gid, err := resolveUser(spec, passwd, group)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = strings.TrimSpace(strings.Join([]string{itoa(uid), itoa(gid)}, " "))
		}
		if got != want {
			t.Errorf("resolveUser(%q) = %q, want %q", spec, got, want)
		}
	}
	if _, _, err := resolveUser("postgres", "", ""); err == nil {
		t.Error("an image without /etc/passwd resolved a name")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
