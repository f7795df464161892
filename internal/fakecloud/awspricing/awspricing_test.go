package awspricing_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/fakecloud/awspricing"
)

// TestWireFormat checks the JSON 1.1 answers of the fake: a page of products as JSON strings, its next
// token, and the API's error shapes.
func TestWireFormat(t *testing.T) {
	f := awspricing.Start([]awspricing.Product{
		{SKU: "A", ProductFamily: "Storage", Unit: "GB-Mo", USD: "0.08", Attributes: map[string]string{"regionCode": "us-east-1", "volumeApiName": "gp3"}},
		{SKU: "B", ProductFamily: "Storage", Unit: "GB-Mo", USD: "0.10", Attributes: map[string]string{"regionCode": "us-east-1", "volumeApiName": "gp2"}},
		{SKU: "C", ProductFamily: "Storage", Unit: "GB-Mo", USD: "0.09", Attributes: map[string]string{"regionCode": "eu-west-1", "volumeApiName": "gp3"}},
	})
	t.Cleanup(f.Close)
	post := func(target, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.URL(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	for _, tc := range []struct {
		name, target, body string
		status             int
		want               map[string]any
	}{
		{"first page", "AWSPriceListService.GetProducts",
			`{"ServiceCode":"AmazonEC2","Filters":[{"Type":"TERM_MATCH","Field":"regionCode","Value":"us-east-1"}],"MaxResults":1}`,
			200, map[string]any{"FormatVersion": "aws_v1", "NextToken": "page-1", "skus": []any{"A"}}},
		{"last page", "AWSPriceListService.GetProducts",
			`{"ServiceCode":"AmazonEC2","Filters":[{"Type":"TERM_MATCH","Field":"regionCode","Value":"us-east-1"}],"MaxResults":1,"NextToken":"page-1"}`,
			200, map[string]any{"FormatVersion": "aws_v1", "skus": []any{"B"}}},
		{"bad token", "AWSPriceListService.GetProducts", `{"ServiceCode":"AmazonEC2","NextToken":"x"}`,
			400, map[string]any{"__type": "com.amazonaws.pricing#InvalidNextTokenException", "message": "The NextToken is invalid"}},
		{"no service code", "AWSPriceListService.GetProducts", `{}`,
			400, map[string]any{"__type": "com.amazonaws.pricing#InvalidParameterException", "message": "ServiceCode is required"}},
		{"another operation", "AWSPriceListService.DescribeServices", `{}`,
			400, map[string]any{"__type": "com.amazonaws.pricing#UnknownOperationException", "message": "unknown operation AWSPriceListService.DescribeServices"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := post(tc.target, tc.body)
			if list, ok := out["PriceList"].([]any); ok {
				var skus []any
				for _, doc := range list {
					var p struct {
						Product struct{ SKU string }
					}
					if err := json.Unmarshal([]byte(doc.(string)), &p); err != nil {
						t.Fatalf("a PriceList entry is not a JSON document in a string: %v", err)
					}
					skus = append(skus, p.Product.SKU)
				}
				delete(out, "PriceList")
				out["skus"] = skus
			}
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			if diff := cmp.Diff(tc.want, out); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}
