package kafkaauth

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/sasl"
	awssasl "github.com/twmb/franz-go/pkg/sasl/aws"

	"github.com/capi-connector/capi-connector/config"
)

// AWSLoader returns the AWS configuration whose Credentials sign the MSK IAM handshake. The default is the SDK's
// default chain (awsconfig.LoadDefaultConfig).
type AWSLoader func(ctx context.Context, region string) (aws.Config, error)

func defaultAWSLoader(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	return awsconfig.LoadDefaultConfig(ctx, opts...)
}

// awsIAM signs AWS_MSK_IAM handshakes with credentials from a cache the SDK refreshes before they expire (IRSA web
// identity tokens, ECS and EC2 role credentials are short-lived; static keys never expire).
type awsIAM struct {
	creds    aws.CredentialsProvider
	identity string
}

func newAWSIAM(ctx context.Context, c config.AWSIAM, load AWSLoader) (*awsIAM, error) {
	if load == nil {
		load = defaultAWSLoader
	}
	// franz-go takes the signing region from the MSK host name (b-1.x.y.kafka.<region>.amazonaws.com), else from
	// AWS_REGION / AWS_DEFAULT_REGION: a configured region reaches it through AWS_REGION when neither is set.
	if c.Region != "" && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		if err := os.Setenv("AWS_REGION", c.Region); err != nil {
			return nil, fmt.Errorf("kafka.sasl.aws.region: %w", err)
		}
	}
	cfg, err := load(ctx, c.Region)
	if err != nil {
		return nil, fmt.Errorf("kafka.sasl (AWS_MSK_IAM): loading the AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("kafka.sasl (AWS_MSK_IAM): the AWS configuration has no credential provider")
	}
	creds := cfg.Credentials
	if _, cached := creds.(*aws.CredentialsCache); !cached {
		creds = aws.NewCredentialsCache(creds)
	}
	identity := "the AWS identity of the default credential chain"
	if cfg.Region != "" {
		identity += " (region " + cfg.Region + ")"
	}
	return &awsIAM{creds: creds, identity: identity}, nil
}

func (a *awsIAM) mechanism() sasl.Mechanism {
	return awssasl.ManagedStreamingIAM(func(ctx context.Context) (awssasl.Auth, error) {
		c, err := a.creds.Retrieve(ctx)
		if err != nil {
			return awssasl.Auth{}, fmt.Errorf("AWS_MSK_IAM: no AWS credentials from the default chain: %w", err)
		}
		return awssasl.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken,
			UserAgent: "capi-connector"}, nil
	})
}

// prepare retrieves credentials once, so that a machine without any fails at startup with the chain's reason.
func (a *awsIAM) prepare(ctx context.Context) error {
	if _, err := a.creds.Retrieve(ctx); err != nil {
		return &RefusedError{Identity: a.identity, Err: fmt.Errorf("no AWS credentials from the default chain: %w", err)}
	}
	return nil
}
