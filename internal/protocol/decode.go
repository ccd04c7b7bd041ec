package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxRequestBytes bounds what we read: a request is a few KiB, an inline
// compose file rarely more than a few hundred.
const maxRequestBytes = 16 << 20

// Decode reads, validates and decodes one request. Every failure is an
// invalid_request Error naming what was wrong; nothing has been touched yet.
func Decode(r io.Reader) (*Request, *Error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxRequestBytes+1))
	if err != nil {
		return nil, Errorf(CodeInvalidRequest, "cannot read request: %v", err)
	}
	if len(raw) > maxRequestBytes {
		return nil, Errorf(CodeInvalidRequest, "request larger than %d bytes", maxRequestBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, Errorf(CodeInvalidRequest, "empty request: send one JSON object such as {\"version\":1,\"action\":\"cluster.status\"}")
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, Errorf(CodeInvalidRequest, "request is not valid JSON: %s", describeJSONError(raw, err))
	}
	if dec.More() {
		return nil, Errorf(CodeInvalidRequest, "request holds more than one JSON document: send exactly one")
	}
	if verr := Validate(doc); verr != nil {
		return nil, verr
	}
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, Errorf(CodeInvalidRequest, "request does not match the envelope: %v", err)
	}
	return &req, nil
}

// DecodeParams decodes already validated params into a typed struct.
func DecodeParams(req *Request, into any) *Error {
	if len(req.Params) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(req.Params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return Errorf(CodeInvalidRequest, "params of %s: %v", req.Action, err)
	}
	return nil
}

func describeJSONError(raw []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := position(raw, syn.Offset-1) // Offset is just past the bad byte
		return fmt.Sprintf("%v at line %d, column %d", syn, line, col)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input (truncated request?)"
	}
	return err.Error()
}

func position(raw []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(raw)); i++ {
		if raw[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
