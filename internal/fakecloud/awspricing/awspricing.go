// Package awspricing is a fake of the AWS Price List Query API (service AWSPriceListService) for tests:
// an HTTP server that takes the JSON 1.1 requests aws-sdk-go-v2's pricing client sends (POST /, header
// X-Amz-Target: AWSPriceListService.GetProducts) and answers in the API's real wire format, each
// PriceList entry a product document encoded as a JSON string, errors as {"__type", "message"}.
//
// It serves GetProducts over a catalogue the test gives it: TERM_MATCH and EQUALS filters on the
// product's attributes (and productFamily), pagination with MaxResults and NextToken. Other actions are
// answered with UnknownOperationException.
package awspricing

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Product is one priced product of the catalogue: an on-demand price per unit in USD.
type Product struct {
	SKU           string
	ServiceCode   string // default AmazonEC2
	ProductFamily string // "Compute Instance", "Storage", …
	Attributes    map[string]string
	Unit          string // "Hrs", "GB-Mo"
	USD           string // e.g. "0.0104000000"
}

// Server is the fake Price List API.
type Server struct {
	mu       sync.Mutex
	products []Product
	requests int
	pageSize int
	faults   []*apiError
	http     *httptest.Server
}

// SetPageSize makes GetProducts answer at most n products a page, fewer than MaxResults asks for, as
// the API may.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Inject makes the next times requests fail with the API error code (ThrottlingException,
// InternalErrorException, …) and HTTP status.
func (s *Server) Inject(code string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.faults = append(s.faults, &apiError{status, code, "Injected fault."})
	}
}

// Start serves a fake with the catalogue products on a loopback port until Close.
func Start(products []Product) *Server {
	s := &Server{products: products}
	s.http = httptest.NewServer(s)
	return s
}

// URL is the endpoint of the server.
func (s *Server) URL() string { return s.http.URL }

// Close stops the server.
func (s *Server) Close() { s.http.Close() }

// Requests returns how many GetProducts requests the server answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

type filter struct {
	Type, Field, Value string
}

type getProductsInput struct {
	ServiceCode   string
	Filters       []filter
	FormatVersion string
	NextToken     string
	MaxResults    *int
}

type apiError struct {
	status       int
	code, detail string
}

// ServeHTTP answers one JSON 1.1 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", "want a POST of application/x-amz-json-1.1"})
		return
	}
	if target != "AWSPriceListService.GetProducts" {
		writeError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", "unknown operation " + target})
		return
	}
	var in getProductsInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	out, aerr := s.getProducts(in)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "fake-"+strconv.Itoa(s.Requests()))
	json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.pricing#" + e.code, "message": e.detail})
}

type getProductsOutput struct {
	FormatVersion string   `json:"FormatVersion"`
	NextToken     *string  `json:"NextToken,omitempty"`
	PriceList     []string `json:"PriceList"`
}

func (s *Server) getProducts(in getProductsInput) (*getProductsOutput, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		return nil, f
	}
	if in.ServiceCode == "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "ServiceCode is required"}
	}
	if in.FormatVersion != "" && in.FormatVersion != "aws_v1" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "Unsupported FormatVersion " + in.FormatVersion}
	}
	limit := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterException", "MaxResults must be between 1 and 100"}
		}
		limit = *in.MaxResults
	}
	if s.pageSize > 0 {
		limit = min(limit, s.pageSize)
	}
	var match []Product
	for _, p := range s.products {
		if ok, err := matches(p, in); err != nil {
			return nil, err
		} else if ok {
			match = append(match, p)
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "page-"))
		if err != nil || n < 0 || n > len(match) {
			return nil, &apiError{http.StatusBadRequest, "InvalidNextTokenException", "The NextToken is invalid"}
		}
		start = n
	}
	out := &getProductsOutput{FormatVersion: "aws_v1", PriceList: []string{}}
	end := min(len(match), start+limit)
	for _, p := range match[start:end] {
		out.PriceList = append(out.PriceList, document(p))
	}
	if end < len(match) {
		tok := fmt.Sprintf("page-%d", end)
		out.NextToken = &tok
	}
	return out, nil
}

func matches(p Product, in getProductsInput) (bool, *apiError) {
	if code := serviceCode(p); code != in.ServiceCode {
		return false, nil
	}
	for _, f := range in.Filters {
		if f.Type != "TERM_MATCH" && f.Type != "EQUALS" {
			return false, &apiError{http.StatusBadRequest, "InvalidParameterException", "Unsupported filter type " + f.Type}
		}
		have, ok := p.Attributes[f.Field]
		switch f.Field {
		case "productFamily":
			have, ok = p.ProductFamily, true
		case "ServiceCode":
			have, ok = serviceCode(p), true
		}
		if !ok || !strings.EqualFold(have, f.Value) {
			return false, nil
		}
	}
	return true, nil
}

func serviceCode(p Product) string {
	if p.ServiceCode == "" {
		return "AmazonEC2"
	}
	return p.ServiceCode
}

// document renders p as the Price List's product document, with one on-demand term.
func document(p Product) string {
	attrs := map[string]string{"servicecode": serviceCode(p)}
	for k, v := range p.Attributes {
		attrs[k] = v
	}
	term, dim := p.SKU+".JRTCKXETXF", p.SKU+".JRTCKXETXF.6YS6EN2CT7"
	doc := map[string]any{
		"product":     map[string]any{"productFamily": p.ProductFamily, "attributes": attrs, "sku": p.SKU},
		"serviceCode": serviceCode(p),
		"terms": map[string]any{"OnDemand": map[string]any{term: map[string]any{
			"offerTermCode": "JRTCKXETXF", "sku": p.SKU, "effectiveDate": "2026-11-01T00:00:00Z", "termAttributes": map[string]any{},
			"priceDimensions": map[string]any{dim: map[string]any{
				"unit": p.Unit, "endRange": "Inf", "beginRange": "0", "rateCode": dim, "appliesTo": []any{},
				"description":  fmt.Sprintf("$%s per %s", p.USD, p.Unit),
				"pricePerUnit": map[string]string{"USD": p.USD},
			}},
		}}},
		"version":         "20261101000000",
		"publicationDate": "2026-11-01T00:00:00Z",
	}
	b, _ := json.Marshal(doc)
	return string(b)
}
