// Command refreshprices rewrites the aws provider's dated price table from the AWS Price List Query
// API (GetProducts in us-east-1), with the SDK's usual credentials (any account may read prices; the
// caller needs pricing:GetProducts):
//
//	AWS_PROFILE=… go run ./plugins/aws/refreshprices -o plugins/aws/prices.json
//
// -endpoint (or the SDK's AWS_ENDPOINT_URL_PRICING) points it at another Price List endpoint.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	awsprovider "github.com/provhq/prov/plugins/aws"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "refreshprices:", err)
		os.Exit(1)
	}
}

// run is the command with its arguments.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("refreshprices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "prices.json", "file to write")
	asOf := fs.String("date", time.Now().UTC().Format("2006-01-02"), "date of the prices")
	endpoint := fs.String("endpoint", "", "Price List API endpoint URL (default: AWS_ENDPOINT_URL_PRICING, else AWS's in "+awsprovider.PricingRegion+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(awsprovider.PricingRegion))
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	svc := pricing.NewFromConfig(cfg, func(o *pricing.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	data, err := awsprovider.RefreshPrices(ctx, svc, *asOf)
	if err != nil {
		return err
	}
	// Write whole or not at all: a temporary file renamed over the table.
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	return nil
}
