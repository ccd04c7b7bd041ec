// Package schemas embeds the JSON Schemas of the protocol so the binary
// validates requests against exactly the files shipped in this directory.
package schemas

import "embed"

// FS holds request.json, response.json and one <action>.json per action.
//
//go:embed *.json
var FS embed.FS
