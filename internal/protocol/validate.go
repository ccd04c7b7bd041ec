package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/incus-fleet/incus-fleet/schemas"
)

// schemaBase is only a name space for the embedded files; nothing is fetched.
const schemaBase = "https://schemas.incus-fleet.invalid/"

type compiled struct {
	request  *jsonschema.Schema
	params   map[string]*jsonschema.Schema
	response map[string]*jsonschema.Schema
}

var (
	compileOnce sync.Once
	compiledSet *compiled
	compileErr  error
)

// Actions lists the actions that have a schema, sorted.
func Actions() []string {
	c := mustCompile()
	names := make([]string, 0, len(c.params))
	for name := range c.params {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Schema returns the raw embedded schema file of an action ("" for the
// envelope), or an error naming the known actions.
func Schema(action string) ([]byte, error) {
	file := "request.json"
	if action != "" {
		if _, ok := mustCompile().params[action]; !ok {
			return nil, unknownAction(action)
		}
		file = action + ".json"
	}
	return fs.ReadFile(schemas.FS, file)
}

func mustCompile() *compiled {
	compileOnce.Do(func() { compiledSet, compileErr = compileAll() })
	if compileErr != nil {
		// The schemas are embedded at build time; a broken one is a bug in
		// this binary, caught by the schema unit test.
		panic(compileErr)
	}
	return compiledSet
}

func compileAll() (*compiled, error) {
	files, err := fs.Glob(schemas.FS, "*.json")
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft2020
	comp.LoadURL = func(url string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema %s is not embedded", url)
	}
	for _, f := range files {
		data, err := fs.ReadFile(schemas.FS, f)
		if err != nil {
			return nil, err
		}
		if err := comp.AddResource(schemaBase+f, bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("schema %s: %w", f, err)
		}
	}
	c := &compiled{params: map[string]*jsonschema.Schema{}, response: map[string]*jsonschema.Schema{}}
	if c.request, err = comp.Compile(schemaBase + "request.json"); err != nil {
		return nil, err
	}
	for _, f := range files {
		action := strings.TrimSuffix(f, ".json")
		if action == "request" || action == "response" {
			continue
		}
		if c.params[action], err = comp.Compile(schemaBase + f + "#/$defs/params"); err != nil {
			return nil, err
		}
		if c.response[action], err = comp.Compile(schemaBase + f + "#/$defs/response"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Validate checks a decoded JSON document (json.Number numbers) against the
// envelope and the action's params schema.
func Validate(doc any) *Error {
	c := mustCompile()
	if obj, ok := doc.(map[string]any); ok {
		if v, ok := obj["version"]; ok && fmt.Sprint(v) != "1" {
			return Invalid("version", "unsupported protocol version %v; this binary speaks version %d", v, Version)
		}
	}
	if err := c.request.Validate(doc); err != nil {
		return fromSchemaError(err, "")
	}
	obj := doc.(map[string]any) // the envelope schema guarantees an object
	action, _ := obj["action"].(string)
	params, ok := c.params[action]
	if !ok {
		return unknownAction(action)
	}
	p, present := obj["params"]
	if !present {
		p = map[string]any{}
	}
	if err := params.Validate(p); err != nil {
		return fromSchemaError(err, "params")
	}
	return nil
}

// ValidateResponse checks a response document against its action's schema;
// tests use it so the schemas cannot drift from what the binary prints.
func ValidateResponse(action string, doc any) error {
	s, ok := mustCompile().response[action]
	if !ok {
		return unknownAction(action)
	}
	return s.Validate(doc)
}

func unknownAction(action string) *Error {
	known := strings.Join(Actions(), ", ")
	return Invalid("action", "unknown action %q; known actions: %s", action, known)
}

var quotedNames = regexp.MustCompile(`'([^']+)'`)

// fromSchemaError turns a schema violation into an invalid_request error
// whose details name each offending field in dotted form (params.name).
func fromSchemaError(err error, prefix string) *Error {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return Errorf(CodeInvalidRequest, "%v", err)
	}
	var details []Detail
	for _, leaf := range leaves(verr) {
		field := dotted(prefix, leaf.InstanceLocation)
		msg := leaf.Message
		if strings.HasPrefix(msg, "additionalProperties") {
			for _, m := range quotedNames.FindAllStringSubmatch(msg, -1) {
				details = append(details, Detail{Field: join(field, m[1]), Message: "unknown field; check the spelling against `incus-fleet schema`"})
			}
			continue
		}
		if strings.HasPrefix(msg, "missing properties") {
			for _, m := range quotedNames.FindAllStringSubmatch(msg, -1) {
				details = append(details, Detail{Field: join(field, m[1]), Message: "required field is missing"})
			}
			continue
		}
		details = append(details, Detail{Field: field, Message: msg})
	}
	sort.Slice(details, func(i, j int) bool {
		if details[i].Field != details[j].Field {
			return details[i].Field < details[j].Field
		}
		return details[i].Message < details[j].Message
	})
	if len(details) == 0 {
		return Errorf(CodeInvalidRequest, "%s", verr.Message)
	}
	parts := make([]string, len(details))
	for i, d := range details {
		parts[i] = fieldOrRoot(d.Field) + ": " + d.Message
	}
	return &Error{Code: CodeInvalidRequest, Message: "invalid request: " + strings.Join(parts, "; "), Details: details}
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func dotted(prefix, pointer string) string {
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	for _, p := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if p != "" {
			parts = append(parts, strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~"))
		}
	}
	return strings.Join(parts, ".")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func fieldOrRoot(f string) string {
	if f == "" {
		return "request"
	}
	return f
}
