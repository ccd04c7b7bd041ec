package composeload

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSameFaultsSameError: compose-go meets faults in map order, so a file
// with two faulty services used to name either one, run by run. Loaded
// many times, the error is byte-identical and names the first faulty
// service by name.
func TestSameFaultsSameError(t *testing.T) {
	for _, tt := range []struct{ dir, want string }{
		{"twofaults", `service "api" refers to undefined network back`},
		{"twofaults-schema", `services.api.colour is not a Compose attribute`},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			file, _ := filepath.Abs(filepath.Join("testdata", tt.dir, "compose.yaml"))
			var first string
			for i := 0; i < 30; i++ {
				_, err := Load(context.Background(), Options{Name: "test", Files: []string{file}, LookupEnv: noEnv})
				if err == nil {
					t.Fatal("loaded without error")
				}
				if i == 0 {
					first = err.Error()
					if !strings.Contains(first, tt.want) {
						t.Fatalf("error %q does not name the first faulty service (%q)", first, tt.want)
					}
				} else if err.Error() != first {
					t.Fatalf("run %d: error\n%s\ndiffers from run 0:\n%s", i, err, first)
				}
			}
		})
	}
}

// TestSameInputSameWarnings: warnings come sorted, identical every run.
func TestSameInputSameWarnings(t *testing.T) {
	yaml := "services:\n  b:\n    image: x\n    tty: true\n    links: [a:alias]\n  a:\n    image: x\n    logging: {driver: syslog}\n    dns: [192.0.2.1]\nnetworks:\n  default:\n    ipam: {config: [{subnet: 10.9.0.0/24, ip_range: 10.9.0.0/25}]}\n"
	first := strings.Join(mustLoad(t, yaml).Warnings, "\n")
	for i := 0; i < 30; i++ {
		if got := strings.Join(mustLoad(t, yaml).Warnings, "\n"); got != first {
			t.Fatalf("run %d: warnings\n%s\ndiffer from\n%s", i, got, first)
		}
	}
	if !strings.HasPrefix(first, `network "default"`) || !strings.Contains(first, "\nservice \"a\": dns") {
		t.Errorf("warnings not sorted:\n%s", first)
	}
}
