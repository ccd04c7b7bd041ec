package names

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Record is what the fleet last wrote into each running instance of a
// stack: instance -> digest of its whole hosts file. It is kept with the
// stack (a project config key), so that
//   - a run writes only the files whose content really changes, not every
//     running instance's, and
//   - a run that changes no instance (a no-op apply, a `stack watch`
//     resync) still sees when the running set moved under the names (a
//     member lost, an instance stopped or deleted by hand) and repairs
//     them, without reading any file back.
//
// An instance whose write failed is left out, so the next run retries it.
type Record map[string]string

// Digest names a hosts file's content in a record.
func Digest(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:8])
}

// DecodeRecord reads a record as stored; anything unreadable is an empty
// record (every file is written again, which is always safe).
func DecodeRecord(s string) Record {
	r := Record{}
	if s != "" && json.Unmarshal([]byte(s), &r) != nil {
		return Record{}
	}
	return r
}

// Encode is the stored form: JSON with sorted keys, so the same record is
// the same bytes.
func (r Record) Encode() string {
	if len(r) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string]string(r)) // maps marshal with sorted keys
	return string(b)
}

// Covers reports whether the record was written for exactly these running
// instances: when it is not, the names are stale.
func (r Record) Covers(running []string) bool {
	if len(running) != len(r) {
		return false
	}
	for _, name := range running {
		if _, ok := r[name]; !ok {
			return false
		}
	}
	return true
}
