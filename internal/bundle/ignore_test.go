package bundle

import "testing"

func TestIgnoreMatching(t *testing.T) {
	ig := parseIgnore([]byte(`
# comment
*.log
!important.log
/build/
docs/*.md
**/tmp/**
secret?.txt
\#literal
`))
	cases := []struct {
		path  string
		dir   bool
		want  bool
		about string
	}{
		{"a.log", false, true, "glob at the root"},
		{"x/y/a.log", false, true, "no slash: any depth"},
		{"important.log", false, false, "negated"},
		{"build", true, true, "anchored directory"},
		{"build", false, false, "trailing slash matches directories only"},
		{"src/build", true, false, "leading slash anchors at the root"},
		{"docs/a.md", false, true, "inner slash anchors"},
		{"x/docs/a.md", false, false, "inner slash anchors at the root"},
		{"docs/sub/a.md", false, false, "* does not cross /"},
		{"a/tmp/b/c", false, true, "** on both sides"},
		{"tmp", true, true, "** matches zero segments"},
		{"secret1.txt", false, true, "?"},
		{"#literal", false, true, "escaped #"},
		{"keep.txt", false, false, "no rule"},
	}
	for _, c := range cases {
		if got, by := ig.match(c.path, c.dir); got != c.want {
			t.Errorf("%s (dir %v): ignored %v by %q, want %v (%s)", c.path, c.dir, got, by, c.want, c.about)
		}
	}
	if by, ok := ig.excludedBy("build/out/app.bin"); !ok || by != "/build/" {
		t.Errorf("excludedBy = %q, %v; want the directory rule", by, ok)
	}
}
