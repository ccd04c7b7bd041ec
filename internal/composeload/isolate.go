package composeload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// stubImage stands in for the image of every service but the one under
// test while a fault is isolated; it is never deployed.
const stubImage = "incus-fleet-isolate"

// isolatedSections are the top-level sections whose entries compose-go
// checks in map order, in the order faults in them are reported.
var isolatedSections = []string{"services", "networks", "volumes", "secrets", "configs"}

// element is one entry of a top-level section (services.web).
type element struct{ section, key string }

// firstFault makes a load error independent of map order. compose-go
// checks entries in Go map order and stops at the first fault, so a file
// with two faulty services named either one, run by run. Here the entries
// of every section are put in one order (services first, each section by
// name) and the load is repeated with a prefix of them kept as written
// and every other entry reduced to a stub that cannot fail: a binary
// search finds the shortest failing prefix, whose last entry is the first
// faulty one, and its error is that entry's, loaded alone. When the stubs
// alone fail (a fault outside the entries) or no entry fails alone (a
// fault between entries), the original error stands. Only the failing
// path pays for this: about log2(entries) + 2 loads.
func firstFault(ctx context.Context, details types.ConfigDetails, opts func(*loader.Options), orig error) error {
	elems := declared(details.ConfigFiles)
	if len(elems) < 2 {
		return orig
	}
	load := func(keep []element) (error, bool) {
		files, ok := stubbedFiles(details.ConfigFiles, keep)
		if !ok {
			return nil, false
		}
		d := details
		d.ConfigFiles = files
		_, _, err := loadOnce(ctx, d, opts)
		if err != nil && (ctx.Err() != nil || strings.Contains(err.Error(), stubImage)) {
			return nil, false
		}
		return err, true
	}
	if err, ok := load(nil); !ok || err != nil {
		return orig
	}
	lo, hi := 0, len(elems) // prefix lo loads, prefix hi fails (it is the input)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		err, ok := load(elems[:mid])
		if !ok {
			return orig
		}
		if err != nil {
			hi = mid
		} else {
			lo = mid
		}
	}
	if err, ok := load(elems[hi-1 : hi]); ok && err != nil {
		return err
	}
	return orig
}

// declared lists the entries of the isolated sections in the given files,
// section by section, each sorted by name.
func declared(files []types.ConfigFile) []element {
	var out []element
	for _, section := range isolatedSections {
		var keys []string
		for _, f := range files {
			docs, ok := decodeDocs(f.Content)
			if !ok {
				return nil
			}
			for _, doc := range docs {
				if m := mapGet(docRoot(doc), section); m != nil && m.Kind == yaml.MappingNode {
					for i := 0; i+1 < len(m.Content); i += 2 {
						keys = append(keys, m.Content[i].Value)
					}
				}
			}
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			out = append(out, element{section, k})
		}
	}
	return out
}

// stubbedFiles rewrites the files with every entry not in keep reduced to
// a stub. Anchors on an entry's body survive on its stub; ok is false when
// a file cannot be rewritten (an anchor deeper inside a stubbed entry).
func stubbedFiles(files []types.ConfigFile, keep []element) ([]types.ConfigFile, bool) {
	out := make([]types.ConfigFile, len(files))
	for i, f := range files {
		docs, ok := decodeDocs(f.Content)
		if !ok {
			return nil, false
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		for _, doc := range docs {
			for _, section := range isolatedSections {
				m := mapGet(docRoot(doc), section)
				if m == nil || m.Kind != yaml.MappingNode {
					continue
				}
				for j := 0; j+1 < len(m.Content); j += 2 {
					if slices.Contains(keep, element{section, m.Content[j].Value}) {
						continue
					}
					if innerAnchor(m.Content[j+1], true) {
						return nil, false // something else may use it
					}
					m.Content[j+1] = stub(section, m.Content[j+1])
				}
			}
			if enc.Encode(doc) != nil {
				return nil, false
			}
		}
		if enc.Close() != nil {
			return nil, false
		}
		out[i] = types.ConfigFile{Filename: f.Filename, Content: buf.Bytes()}
	}
	return out, true
}

// stub is an entry that cannot fail: a service with the stub image and
// the original's profiles (so the same services stay enabled), an
// external secret or config, an empty network or volume.
func stub(section string, orig *yaml.Node) *yaml.Node {
	scalar := func(tag, v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v} }
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if orig != nil && orig.Kind != yaml.AliasNode {
		n.Anchor = orig.Anchor
	}
	switch section {
	case "services":
		n.Content = []*yaml.Node{scalar("!!str", "image"), scalar("!!str", stubImage)}
		if p := mapGet(orig, "profiles"); p != nil {
			n.Content = append(n.Content, scalar("!!str", "profiles"), p)
		}
	case "secrets", "configs":
		n.Content = []*yaml.Node{scalar("!!str", "external"), scalar("!!bool", "true")}
	}
	return n
}

// innerAnchor tells a node holding an anchor below its root, which a
// stub would drop while some alias may still point at it.
func innerAnchor(n *yaml.Node, root bool) bool {
	if n == nil || n.Kind == yaml.AliasNode {
		return false
	}
	if n.Anchor != "" && !root {
		return true
	}
	for _, c := range n.Content {
		if innerAnchor(c, false) {
			return true
		}
	}
	return false
}

func decodeDocs(content []byte) ([]*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return docs, errors.Is(err, io.EOF)
		}
		docs = append(docs, &doc)
	}
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return doc
}
