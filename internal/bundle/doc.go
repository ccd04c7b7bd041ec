// Package bundle creates, verifies and opens compose bundles: one
// deterministic tar.gz holding a manifest, the pinned compose file (every
// image an immutable fingerprint) and the project's support files, so a
// Compose app can be published once and deployed anywhere, unchanged.
//
// Layout (tar entries, in this order):
//
//	manifest.json   format, the compose file's path and sha256, the pinned
//	                images, and path/size/mode/sha256 of every other entry
//	compose.yaml    the pinned compose file
//	...             support files, sorted by path
//
// Only regular files are stored. Verification is streaming and bounded: it
// never trusts a size before checking it against the limits and never
// writes outside the directory it extracts into.
package bundle
