package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provhq/prov/internal/fakecloud/awspricing"
)

// TestRun rewrites a price table from a fake Price List API with one region and one instance type
// less than the table has: the command writes what the API answers, dated.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ENDPOINT_URL_PRICING", "")
	var table struct {
		Instances map[string]map[string]float64 `json:"instances"`
	}
	data, err := os.ReadFile("../prices.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	var products []awspricing.Product
	for region := range table.Instances {
		products = append(products,
			awspricing.Product{SKU: region + "1", ProductFamily: "Compute Instance", Unit: "Hrs", USD: "0.0208000000",
				Attributes: map[string]string{"regionCode": region, "instanceType": "t3.small", "operatingSystem": "Linux", "tenancy": "Shared",
					"preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"}},
			awspricing.Product{SKU: region + "2", ProductFamily: "Storage", Unit: "GB-Mo", USD: "0.0800000000",
				Attributes: map[string]string{"regionCode": region, "volumeApiName": "gp3"}})
	}
	f := awspricing.Start(products)
	t.Cleanup(f.Close)
	out := filepath.Join(dir, "prices.json")
	if err := run(context.Background(), []string{"-o", out, "-date", "2026-11-24", "-endpoint", f.URL()}, io.Discard); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		AsOf      string                        `json:"as_of"`
		Instances map[string]map[string]float64 `json:"instances"`
		EBS       map[string]map[string]float64 `json:"ebs_gb_month"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]float64{}
	for region := range table.Instances {
		want[region] = map[string]float64{"t3.small": 0.0208}
	}
	if diff := cmp.Diff(want, got.Instances); diff != "" || got.AsOf != "2026-11-24" || got.EBS["us-east-1"]["gp3"] != 0.08 {
		t.Errorf("as of %s, EBS %v, instances (-want +got):\n%s", got.AsOf, got.EBS, diff)
	}
	if err := run(context.Background(), []string{"-o", out, "-endpoint", f.URL() + "/x", "-bogus"}, io.Discard); err == nil {
		t.Error("a bad flag was accepted")
	}
}
