package server

import (
	_ "embed"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// brainDescriptorSet is `buf build` of proto/ with its comments (source info), made by
// `make generate`. protoc-gen-go strips comments from the descriptors it embeds; serving this set
// instead lets `grpcurl describe` show every documented RPC, message and field.
//
//go:embed brain.binpb
var brainDescriptorSet []byte

// documentedResolver answers reflection from the documented descriptor set first and from the
// linked-in registry (health, reflection) second.
type documentedResolver struct{ files *protoregistry.Files }

func (r documentedResolver) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.files.FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (r documentedResolver) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.files.FindDescriptorByName(name); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(name)
}

func loadDocumentedFiles() (*protoregistry.Files, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(brainDescriptorSet, &set); err != nil {
		return nil, fmt.Errorf("embedded descriptor set: %w", err)
	}
	return protodesc.NewFiles(&set)
}

// registerReflection serves v1 and v1alpha reflection (grpcurl speaks both) with comments.
func registerReflection(s *grpc.Server) error {
	files, err := loadDocumentedFiles()
	if err != nil {
		return err
	}
	opts := reflection.ServerOptions{Services: s, DescriptorResolver: documentedResolver{files}}
	reflectionv1.RegisterServerReflectionServer(s, reflection.NewServerV1(opts))
	reflectionv1alpha.RegisterServerReflectionServer(s, reflection.NewServer(opts))
	return nil
}
