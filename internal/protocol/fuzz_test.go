package protocol

import (
	"bytes"
	"testing"
)

// FuzzDecode: any input gives either a request or an invalid_request error,
// never a panic and never another code.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"action":"stack.present","params":{"name":"demo","compose_yaml":"services: {}"}}`,
		`{"version":1,"action":"stack.plan"}`,
		`{"version":1,"action":"cluster.status","connection":{"socket":"/x"}}`,
		`{"version":2}`, `[]`, `null`, `{"version":1,"action":`, `{"version":1e400}`,
		`{"version":1,"action":"stack.status","params":{"name":"a","name":"b"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := Decode(bytes.NewReader(data))
		if err != nil {
			if err.Code != CodeInvalidRequest || err.Message == "" {
				t.Fatalf("bad error %+v for %q", err, data)
			}
			return
		}
		if req.Version != Version || req.Action == "" {
			t.Fatalf("accepted %q as %+v", data, req)
		}
	})
}
