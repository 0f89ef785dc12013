package main

import (
	"context"
	"errors"
	"io"
)

func cmdReplay(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("not implemented yet")
}

func cmdBench(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("not implemented yet")
}

func cmdProduceSamples(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("not implemented yet")
}
