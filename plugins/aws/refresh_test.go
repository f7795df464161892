package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/fakecloud/awspricing"
)

// catalogue is the Price List of the current table, as the fake serves it, with changes (region/type →
// USD per hour) and products a refresh must pass over: Windows, dedicated tenancy, types prov does not
// list, storage without a volume type.
func catalogue(changes map[string]string) []awspricing.Product {
	var out []awspricing.Product
	n := 0
	add := func(family, unit, usd string, attrs map[string]string) {
		n++
		out = append(out, awspricing.Product{SKU: fmt.Sprintf("SKU%05d", n), ProductFamily: family, Unit: unit, USD: usd, Attributes: attrs})
	}
	compute := func(region, typ, os, tenancy string) map[string]string {
		return map[string]string{"regionCode": region, "instanceType": typ, "operatingSystem": os, "tenancy": tenancy,
			"preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"}
	}
	for _, region := range slices.Sorted(maps.Keys(prices.Instances)) {
		for _, typ := range slices.Sorted(maps.Keys(prices.Instances[region])) {
			usd := fmt.Sprintf("%.10f", prices.Instances[region][typ])
			if c, ok := changes[region+"/"+typ]; ok {
				usd = c
			}
			add("Compute Instance", "Hrs", usd, compute(region, typ, "Linux", "Shared"))
			add("Compute Instance", "Hrs", "9.9900000000", compute(region, typ, "Windows", "Shared"))
			add("Compute Instance", "Hrs", "8.8800000000", compute(region, typ, "Linux", "Dedicated"))
		}
		add("Compute Instance", "Hrs", "1.0000000000", compute(region, "x9z.metal", "Linux", "Shared"))
		for _, typ := range slices.Sorted(maps.Keys(prices.EBSGBMonth[region])) {
			add("Storage", "GB-Mo", fmt.Sprintf("%.10f", prices.EBSGBMonth[region][typ]), map[string]string{"regionCode": region, "volumeApiName": typ})
		}
		add("System Operation", "IOPS-Mo", "0.0650000000", map[string]string{"regionCode": region, "group": "EBS IOPS"})
	}
	return out
}

func pricingClient(t *testing.T, endpoint string) *pricing.Client {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(PricingRegion),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	if err != nil {
		t.Fatal(err)
	}
	return pricing.NewFromConfig(cfg, func(o *pricing.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// TestRefreshPrices refreshes the table from the fake Price List API through the SDK's pricing client:
// the result is the current table with the changed price, read page after page, other products passed
// over.
func TestRefreshPrices(t *testing.T) {
	f := awspricing.Start(catalogue(map[string]string{"us-east-1/t3.micro": "0.0110000000", "eu-north-1/c5.xlarge": "0.1830000000"}))
	t.Cleanup(f.Close)
	f.SetPageSize(7)
	data, err := RefreshPrices(context.Background(), pricingClient(t, f.URL()), "2026-11-24")
	if err != nil {
		t.Fatal(err)
	}
	got := mustPrices(data)
	want := *prices
	want.AsOf, want.Source = "2026-11-24", got.Source
	want.Instances = map[string]map[string]float64{}
	for r, m := range prices.Instances {
		want.Instances[r] = maps.Clone(m)
	}
	want.Instances["us-east-1"]["t3.micro"] = 0.011
	want.Instances["eu-north-1"]["c5.xlarge"] = 0.183
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("refreshed table (-want +got):\n%s", diff)
	}
	if !strings.Contains(got.Source, "Price List") {
		t.Errorf("source %q", got.Source)
	}
	if n := f.Requests(); n < 5*len(prices.Instances) {
		t.Errorf("%d GetProducts requests: the pages were not all read", n)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil || raw["as_of"] != "2026-11-24" {
		t.Errorf("prices.json: %v %v", err, raw["as_of"])
	}
}

// TestRefreshPricesErrors: a region the API has no prices for, and the API's own errors, fail the refresh.
func TestRefreshPricesErrors(t *testing.T) {
	var partial []awspricing.Product
	for _, p := range catalogue(nil) {
		if p.Attributes["regionCode"] != "eu-west-1" {
			partial = append(partial, p)
		}
	}
	for _, tc := range []struct {
		name     string
		products []awspricing.Product
		fault    string
		want     string
	}{
		{"a region without prices", partial, "", "no EC2 instance or EBS prices for eu-west-1"},
		{"throttled", catalogue(nil), "ThrottlingException", "refresh prices: GetProducts: ThrottlingException: Injected fault."},
		{"no access", catalogue(nil), "AccessDeniedException", "refresh prices: GetProducts: AccessDeniedException: Injected fault."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awspricing.Start(tc.products)
			t.Cleanup(f.Close)
			if tc.fault != "" {
				f.Inject(tc.fault, 400, 1)
			}
			_, err := RefreshPrices(context.Background(), pricingClient(t, f.URL()), "2026-11-24")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
