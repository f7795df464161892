package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"
)

// PricingRegion is the region of the AWS Price List Query API endpoint prov asks.
const PricingRegion = "us-east-1"

// priceDocument is the part of a Price List product document (one GetProducts PriceList entry) that a
// price table needs.
type priceDocument struct {
	Product struct {
		ProductFamily string            `json:"productFamily"`
		Attributes    map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// onDemandUSD returns the product's on-demand price in USD per unit, ok false when it has none.
func (p *priceDocument) onDemandUSD(unit string) (float64, bool) {
	for _, term := range p.Terms.OnDemand {
		for _, dim := range term.PriceDimensions {
			if dim.Unit != unit {
				continue
			}
			usd, err := strconv.ParseFloat(dim.PricePerUnit["USD"], 64)
			if err == nil && usd > 0 {
				return usd, true
			}
		}
	}
	return 0, false
}

// RefreshPrices builds a new prices.json from the AWS Price List Query API (GetProducts of AmazonEC2,
// which svc must reach in PricingRegion), dated asOf: for each region of the current table, the
// on-demand hourly price of Linux instances on shared tenancy without preinstalled software, of the
// instance types the table has or a portable plan stands for, and the price per GB-month of every EBS
// volume type. A type the API does not price in a region is left out of that region.
func RefreshPrices(ctx context.Context, svc *pricing.Client, asOf string) ([]byte, error) {
	want := map[string]bool{}
	for _, types := range prices.Instances {
		for t := range types {
			want[t] = true
		}
	}
	for _, t := range Plans {
		want[t] = true
	}
	t := priceTable{AsOf: asOf, Currency: "USD", HoursPerMonth: prices.HoursPerMonth,
		Source: "AWS Price List Query API (GetProducts, AmazonEC2): on-demand Linux instances on shared tenancy without " +
			"preinstalled software, per instance-hour; EBS volumes per GB-month.",
		Instances: map[string]map[string]float64{}, EBSGBMonth: map[string]map[string]float64{}}
	for _, region := range slices.Sorted(maps.Keys(prices.Instances)) {
		instances := map[string]float64{}
		err := products(ctx, svc, map[string]string{"regionCode": region, "productFamily": "Compute Instance", "operatingSystem": "Linux",
			"tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used", "licenseModel": "No License required"},
			func(p *priceDocument) {
				if typ := p.Product.Attributes["instanceType"]; want[typ] {
					if usd, ok := p.onDemandUSD("Hrs"); ok {
						instances[typ] = usd
					}
				}
			})
		if err != nil {
			return nil, err
		}
		volumes := map[string]float64{}
		err = products(ctx, svc, map[string]string{"regionCode": region, "productFamily": "Storage"}, func(p *priceDocument) {
			if typ := p.Product.Attributes["volumeApiName"]; slices.Contains(volumeTypes, typ) {
				if usd, ok := p.onDemandUSD("GB-Mo"); ok {
					volumes[typ] = usd
				}
			}
		})
		if err != nil {
			return nil, err
		}
		if len(instances) == 0 || len(volumes) == 0 {
			return nil, fmt.Errorf("refresh prices: the Price List API has no EC2 instance or EBS prices for %s", region)
		}
		t.Instances[region], t.EBSGBMonth[region] = instances, volumes
	}
	out, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return nil, fmt.Errorf("refresh prices: %w", err)
	}
	return append(out, '\n'), nil
}

// products calls each with every AmazonEC2 product whose attributes match, page after page.
func products(ctx context.Context, svc *pricing.Client, match map[string]string, each func(*priceDocument)) error {
	in := &pricing.GetProductsInput{ServiceCode: aws.String("AmazonEC2"), FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(100)}
	for _, k := range slices.Sorted(maps.Keys(match)) {
		in.Filters = append(in.Filters, ptypes.Filter{Type: ptypes.FilterTypeTermMatch, Field: aws.String(k), Value: aws.String(match[k])})
	}
	pages := pricing.NewGetProductsPaginator(svc, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("refresh prices: %w", apiError(err))
		}
		for _, doc := range page.PriceList {
			var p priceDocument
			if err := json.Unmarshal([]byte(doc), &p); err != nil {
				return fmt.Errorf("refresh prices: a PriceList entry: %w", err)
			}
			each(&p)
		}
	}
	return nil
}
