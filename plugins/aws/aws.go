// Package aws is prov's first-party "aws" provider, built with the sdk package on aws-sdk-go-v2: the
// portable server of the servers section (aws_server), EC2 instances (aws_instance), key pairs,
// security groups with their rules, and EBS volumes with their attachments. aws_server and
// aws_instance share one implementation of an instance's life (launch.go).
//
// Credentials and region come from the SDK's standard chain (environment, shared config and credentials
// files, profiles, SSO, instance roles); the provider configuration may name a region and a profile and
// override the EC2 endpoint (the SDK's AWS_ENDPOINT_URL_EC2 works too). Creates are idempotent: an
// instance is launched with the operation id as its ClientToken, and key pairs, security groups and
// volumes carry the tag prov:operation-id, so an apply that died mid-create finds its object (Read by
// operation id) instead of making a second one. Throttled calls are retried with backoff by the SDK's
// retryer; state changes are polled at poll_interval. Plans carry a monthly cost estimate from the
// dated price table in prices.json.
package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/provhq/prov/sdk"
)

// Version is the aws provider's version.
const Version = "0.1.0"

// OperationTag is the tag that records which prov operation created an object, so a create whose
// outcome is in doubt can be found again.
const OperationTag = "prov:operation-id"

const description = `Amazon EC2: servers written with prov's portable fields (aws_server, what servers.NAME becomes), instances
(aws_instance), key pairs, security groups with their rules, and EBS volumes with their attachments, through
aws-sdk-go-v2.

An aws_server takes the plans, zones, images and storage tiers a server has on other providers: a portable
size (small, medium, large, xlarge) or an UpCloud plan (2xCPU-4GB) becomes the instance type of like CPU and
memory, an UpCloud template title the matching Ubuntu or Debian AMI, maxiops and hdd the gp3 and st1
volume types. Its first SSH key becomes a key pair made and deleted with it, cloud-init installs the other
keys and makes a login user other than the image's, and its state has what taskservs need to reach it over
SSH: hostname, ipv4, address (ipv4, else the private address) and user.

Credentials and region come from the SDK's standard chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
AWS_PROFILE and the shared config and credentials files, SSO, or an instance role. ` + "`endpoint`" + ` (or the
SDK's AWS_ENDPOINT_URL_EC2) points the provider at another EC2 endpoint, such as prov's fake for local runs.

An instance is launched with the operation id as its ClientToken, and key pairs, security groups and
volumes are tagged ` + "`prov:operation-id`" + `: an apply that died mid-create finds its object with
` + "`prov apply -resume`" + ` instead of making a second one. Plans estimate each resource's monthly cost
from a dated on-demand price table (` + "`go run ./plugins/aws/refreshprices`" + ` rewrites it from the AWS Price List API).

A bigger EBS volume (aws_ebs_volume.size, a server's storage[].size_gb) grows in place with ModifyVolume;
EBS never shrinks one, so a smaller size replaces it. EBS modifies a volume at most once in six hours, and
the file system on a grown volume is the server's to grow (cloud-init's growpart does the root one at boot).`

// New returns the aws provider's declaration; sdk.ServeProvider or sdk.NewProviderServer runs it.
func New() *sdk.Provider {
	return &sdk.Provider{
		Name:        "aws",
		Version:     Version,
		Description: description,
		Config: map[string]*sdk.Attribute{
			"region":  {Type: sdk.String, Optional: true, Description: "AWS region, e.g. eu-west-1. Default: from AWS_REGION or the profile."},
			"profile": {Type: sdk.String, Optional: true, Description: "Named profile of the shared config files. Default: AWS_PROFILE or \"default\"."},
			"endpoint": {Type: sdk.String, Optional: true, Validators: []sdk.Validator{sdk.Regexp(`^https?://`)},
				Description: "EC2 endpoint URL override. Default: AWS_ENDPOINT_URL_EC2, else the region's endpoint."},
			"max_retries": {Type: sdk.Number, Optional: true, Default: 10, Validators: []sdk.Validator{sdk.Between(0, 100)},
				Description: "Retries of a throttled or failed call, with exponential backoff."},
			"retry_max_backoff": {Type: sdk.String, Optional: true, Default: "20s", Validators: []sdk.Validator{sdk.Duration},
				Description: "Longest wait between two retries."},
			"poll_interval": {Type: sdk.String, Optional: true, Default: "2s", Validators: []sdk.Validator{sdk.Duration},
				Description: "How often to look at an instance or volume while waiting for a state change."},
			"timeout": {Type: sdk.String, Optional: true, Default: "10m", Validators: []sdk.Validator{sdk.Duration},
				Description: "Longest wait for an instance or volume to reach a state."},
		},
		Configure:    configure,
		Capabilities: []string{"read_by_operation_id", "cost_estimate"},
		Resources: map[string]*sdk.Resource{
			"aws_instance":          instanceResource(),
			"aws_server":            serverResource(),
			"aws_key_pair":          keyPairResource(),
			"aws_security_group":    securityGroupResource(),
			"aws_ebs_volume":        volumeResource(),
			"aws_volume_attachment": attachmentResource(),
		},
	}
}

// client is what Configure returns: the EC2 client and the provider's settings.
type client struct {
	ec2     *ec2.Client
	region  string
	poll    time.Duration
	timeout time.Duration
}

func configure(ctx context.Context, cfg *sdk.Data) (any, error) {
	maxBackoff, _ := time.ParseDuration(cfg.String("retry_max_backoff"))
	poll, _ := time.ParseDuration(cfg.String("poll_interval"))
	timeout, _ := time.ParseDuration(cfg.String("timeout"))
	attempts := cfg.Int("max_retries") + 1
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = maxBackoff
				o.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
				// Throttling is the cloud asking us to slow down: back off, never give up early on a
				// client-side retry budget.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if r := cfg.String("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := cfg.String("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, sdk.AttrErrorf("region", "no AWS region: set region here, AWS_REGION, or a region in the profile")
	}
	endpoint := cfg.String("endpoint")
	c := ec2.NewFromConfig(awsCfg, func(o *ec2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return &client{ec2: c, region: awsCfg.Region, poll: poll, timeout: timeout}, nil
}

func clientOf(op *sdk.Op) (*client, error) {
	c, ok := op.Client.(*client)
	if !ok {
		return nil, errors.New("the aws provider is not configured")
	}
	return c, nil
}

// apiError words an EC2 error as the cloud's own code and message, with the request id as detail:
// "RunInstances: InvalidAMIID.NotFound: The image id '[ami-1]' does not exist".
func apiError(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	var oe *smithy.OperationError
	opName := "EC2"
	if errors.As(err, &oe) {
		opName = oe.Operation()
	}
	msg := fmt.Sprintf("%s: %s: %s", opName, ae.ErrorCode(), ae.ErrorMessage())
	var re interface{ ServiceRequestID() string }
	if errors.As(err, &re) && re.ServiceRequestID() != "" {
		msg += "\nAWS request id " + re.ServiceRequestID()
	}
	return &codedError{code: ae.ErrorCode(), msg: msg, err: err}
}

// codedError keeps the EC2 error code for errorCode while reading well.
type codedError struct {
	code, msg string
	err       error
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.err }

// errorCode returns the EC2 error code of err, "" when it has none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notFound reports whether err says the object does not exist.
func notFound(err error) bool {
	return strings.HasSuffix(errorCode(err), ".NotFound")
}

// wait polls check every poll interval until it reports done, fails, or the timeout passes.
func (c *client) wait(ctx context.Context, what string, check func(ctx context.Context) (bool, error)) error {
	deadline := time.Now().Add(c.timeout)
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", c.timeout, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(c.poll):
		}
	}
}

// tagSpec is the TagSpecification for resourceType with tags and, when opID is set, the operation tag,
// and then prov's own tags given as key, value pairs.
func tagSpec(resourceType types.ResourceType, tags map[string]string, opID string, own ...string) []types.TagSpecification {
	var ts []types.Tag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	if opID != "" {
		ts = append(ts, types.Tag{Key: aws.String(OperationTag), Value: aws.String(opID)})
	}
	for i := 0; i+1 < len(own); i += 2 {
		ts = append(ts, types.Tag{Key: aws.String(own[i]), Value: aws.String(own[i+1])})
	}
	if len(ts) == 0 {
		return nil
	}
	return []types.TagSpecification{{ResourceType: resourceType, Tags: ts}}
}

// tagMap returns tags as a map without prov's own tags (prov:…), nil when empty.
func tagMap(tags []types.Tag) any {
	out := map[string]any{}
	for _, t := range tags {
		if k := aws.ToString(t.Key); !strings.HasPrefix(k, "prov:") {
			out[k] = aws.ToString(t.Value)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// updateTags makes the tags of resource id those of d's "tags", leaving the operation tag alone.
func updateTags(ctx context.Context, c *client, id string, d *sdk.Data) error {
	if !d.HasChange("tags") {
		return nil
	}
	old, _ := d.Old("tags").(map[string]any)
	want := d.StringMap("tags")
	var del []types.Tag
	for _, k := range sortedKeys(old) {
		if _, ok := want[k]; !ok {
			del = append(del, types.Tag{Key: aws.String(k)})
		}
	}
	if len(del) > 0 {
		if _, err := c.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: del}); err != nil {
			return apiError(err)
		}
	}
	var set []types.Tag
	for _, k := range sortedKeys(want) {
		if o, ok := old[k]; !ok || o != want[k] {
			set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(want[k])})
		}
	}
	if len(set) > 0 {
		if _, err := c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: set}); err != nil {
			return apiError(err)
		}
	}
	return nil
}

// arn is the ARN of an EC2 resource of the account owner.
func (c *client) arn(owner, kind, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", c.region, cmp.Or(owner, "unknown"), kind, id)
}

// keepOnUpdate returns a plan hook that keeps the prior values of computed attributes an in-place
// update does not change (an ARN, a zone), so the plan shows them instead of "known after apply",
// then runs next when it is set.
func keepOnUpdate(next sdk.Func, keys ...string) sdk.Func {
	return func(ctx context.Context, op *sdk.Op, d *sdk.Data) error {
		if !d.IsNew() {
			for _, k := range keys {
				if old := d.Old(k); old != nil {
					d.Set(k, old)
				}
			}
		}
		if next != nil {
			return next(ctx, op, d)
		}
		return nil
	}
}
