package model

// File is one support file a service needs inside its instances: a Compose
// bind mount of a single file, or a config. Support files are copied into
// every instance (never bind-mounted from a host path), because a replica
// may run on any member and a host path exists on one member only.
//
// Content travels with the service, also into the stack record, so a
// rollback can push the previous version of a file without the original
// project directory.
type File struct {
	Target  string // absolute path inside the instance
	Mode    uint32 // permission bits, e.g. 0o644
	UID     int64
	GID     int64
	Content []byte
	// Source names where the file came from ("./nginx.conf", "config
	// app_conf"), for messages only.
	Source string `json:",omitempty"`
}
