package incus

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoInsecureSkipVerify keeps every TLS connection verified: the flag
// must not appear in any non-test Go file of the project.
func TestNoInsecureSkipVerify(t *testing.T) {
	root := filepath.Join("..", "..")
	flag := "Insecure" + "SkipVerify" // split so this file does not match itself
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), flag) {
			t.Errorf("%s sets %s: verify the server by its certificate or a pin instead", path, flag)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
