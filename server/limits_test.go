package server_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	brainv1 "github.com/modelium/brain/gen/modelium/brain/v1"
	"github.com/modelium/brain/server"
)

// configOfSize is a GPT-2 config.json padded to exactly n bytes.
func configOfSize(n int) []byte {
	head := []byte(`{"architectures":["GPT2LMHeadModel"],"model_type":"gpt2","n_layer":2,"n_embd":64,"n_head":4,"vocab_size":100,"pad":"`)
	tail := []byte(`"}`)
	return append(append(head, bytes.Repeat([]byte("x"), n-len(head)-len(tail))...), tail...)
}

func uuids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("GPU-%d", i)
	}
	return out
}

// TestWireLimitsAtTheEdge: every byte and list limit of the wire form accepts exactly the limit
// and refuses one more, and the counts that must not be negative accept 0.
func TestWireLimitsAtTheEdge(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, GPUs: twoGPUs(t, clock), DecisionInterval: -1})
	big := grpc.MaxCallSendMsgSize(8 << 20)
	now := clock.Now()
	batch := func(last *brainv1.TrafficSample) []*brainv1.TrafficSample {
		s := make([]*brainv1.TrafficSample, server.MaxSamplesPerBatch)
		for i := range s {
			s[i] = sample("m", now, 1, 1)
		}
		s[len(s)-1] = last
		return s
	}
	tests := []struct {
		name  string
		call  func() error
		field string // "" when accepted
	}{
		{"a config.json of exactly 1 MiB is accepted", func() error {
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: configOfSize(server.MaxConfigJSONBytes)}, big)
			return err
		}, ""},
		{"a config.json one byte over 1 MiB is refused", func() error {
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: configOfSize(server.MaxConfigJSONBytes + 1)}, big)
			return err
		}, "config_json"},
		{"a shard index of exactly 1 MiB is accepted", func() error {
			idx := append([]byte(`{"metadata":{"total_size":1000000},"pad":"`), bytes.Repeat([]byte("x"), server.MaxConfigJSONBytes-44)...)
			idx = append(idx, `"}`...)
			if len(idx) != server.MaxConfigJSONBytes {
				t.Fatalf("index of %d bytes", len(idx))
			}
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: configOfSize(200), SafetensorsIndexJson: idx}, big)
			return err
		}, ""},
		{"a context length of 0 (the default) is accepted", func() error {
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: configOfSize(200), ContextLength: 0, Sequences: 0})
			return err
		}, ""},
		{"a negative context length is refused", func() error {
			_, err := client.AnalyzeModel(ctxT(t), &brainv1.AnalyzeModelRequest{ConfigJson: configOfSize(200), ContextLength: -1})
			return err
		}, "context_length"},
		{"exactly 1000 excluded GPUs are accepted", func() error {
			_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: gib, ExcludeGpuUuids: uuids(server.MaxFilterEntries)})
			return err
		}, ""},
		{"1001 excluded GPUs are refused", func() error {
			_, err := client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{ModelName: "m", RequiredBytes: gib, ExcludeGpuUuids: uuids(server.MaxFilterEntries + 1)})
			return err
		}, "exclude_gpu_uuids"},
		{"a full batch of samples still has its timestamps checked", func() error {
			bad := sample("m", now, 1, 1)
			bad.EndTime = &timestamppb.Timestamp{Seconds: now.Unix(), Nanos: -1}
			_, err := client.ReportTraffic(ctxT(t), &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: batch(bad)})
			return err
		}, fmt.Sprintf("samples[%d].end_time", server.MaxSamplesPerBatch-1)},
		{"a full batch of good samples is accepted", func() error {
			_, err := client.ReportTraffic(ctxT(t), &brainv1.ReportTrafficRequest{GatewayId: "gw", Samples: batch(sample("m", now, 1, 1))})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if got := fieldViolations(t, err); got[tt.field] == "" {
				t.Errorf("violations %v; want one on %s", got, tt.field)
			}
		})
	}
}

// TestConfigErrorsNameTheKeyOrThePosition: a config the analysis cannot read is answered with a
// field violation that names the JSON key when one is at fault, and the position when the bytes
// do not parse, never an empty key or a position 0.
func TestConfigErrorsNameTheKeyOrThePosition(t *testing.T) {
	clock := newFakeClock()
	client, _, _ := startServer(t, server.Options{Clock: clock.Now, DecisionInterval: -1})
	tests := []struct {
		name  string
		req   *brainv1.AnalyzeModelRequest
		field string
		desc  string
	}{
		{"an index without a positive total_size names the key",
			&brainv1.AnalyzeModelRequest{ConfigJson: configOfSize(200), SafetensorsIndexJson: []byte(`{"metadata":{"total_size":0}}`)},
			"safetensors_index_json", `key "metadata.total_size": missing or not a positive number`},
		{"bytes that do not parse name the position",
			&brainv1.AnalyzeModelRequest{ConfigJson: []byte(`{"a": ]}`)},
			"config_json", "at line 1, column 7 (byte offset 6): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.AnalyzeModel(ctxT(t), tt.req)
			got := fieldViolations(t, err)[tt.field]
			if !strings.HasPrefix(got, tt.desc) || strings.Contains(got, "line 0") || strings.Contains(got, `key ""`) {
				t.Errorf("%s: %q; want it to start %q", tt.field, got, tt.desc)
			}
		})
	}
}

// safeBuffer is a bytes.Buffer the server's goroutines may write while a test reads it.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestReflectionListsTheBrainService: grpcurl's reflection is served.
func TestReflectionListsTheBrainService(t *testing.T) {
	_, _, conn := startServer(t, server.Options{DecisionInterval: -1})
	stream, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !slices.Contains(names, server.ServiceName) {
		t.Errorf("reflection lists %v; want %s", names, server.ServiceName)
	}
}

// TestChooseRuntimeGivenFieldsWinOverTheConfig: an architecture or model type the request states
// is kept; the config's fills only what the request left empty.
func TestChooseRuntimeGivenFieldsWinOverTheConfig(t *testing.T) {
	client, _, _ := startServer(t, server.Options{DecisionInterval: -1})
	llamaByType := []byte(`{"model_type":"llama","num_hidden_layers":1,"hidden_size":8,"num_attention_heads":1,"vocab_size":10}`)
	llamaByArch := []byte(`{"architectures":["LlamaForCausalLM"],"num_hidden_layers":1,"hidden_size":8,"num_attention_heads":1,"vocab_size":10}`)
	for _, tt := range []struct {
		name string
		spec *brainv1.ModelSpec
		want string
	}{
		{"a stated architecture wins", &brainv1.ModelSpec{Architecture: "ResNetForImageClassification", ConfigJson: llamaByArch}, "ray"},
		{"the config fills an empty architecture", &brainv1.ModelSpec{ConfigJson: llamaByArch}, "vllm"},
		{"a stated model type wins", &brainv1.ModelSpec{ModelType: "resnet", ConfigJson: llamaByType}, "ray"},
		{"the config fills an empty model type", &brainv1.ModelSpec{ConfigJson: llamaByType}, "vllm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.ChooseRuntime(ctxT(t), &brainv1.ChooseRuntimeRequest{Model: tt.spec})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetRuntime() != tt.want {
				t.Errorf("runtime %s by %s (%s); want %s", resp.GetRuntime(), resp.GetRule(), resp.GetReason(), tt.want)
			}
		})
	}
}

// TestInvalidArgumentMessageCountsTheOtherViolations: the status message names the first field
// violation and how many more there are, and says nothing of more when there are none.
func TestInvalidArgumentMessageCountsTheOtherViolations(t *testing.T) {
	client, _, _ := startServer(t, server.Options{DecisionInterval: -1})
	_, err := client.ShouldUnload(ctxT(t), &brainv1.ShouldUnloadRequest{})
	if msg := status.Convert(err).Message(); msg != "invalid request: model_name: required" {
		t.Errorf("one violation: message %q", msg)
	}
	_, err = client.ChooseGPU(ctxT(t), &brainv1.ChooseGPURequest{RequiredBytes: -1})
	if msg := status.Convert(err).Message(); !strings.HasSuffix(msg, "(and 1 more field violations)") {
		t.Errorf("two violations: message %q", msg)
	}
}
