package main

import (
	"context"
	"errors"
	"io"
)

func cmdBench(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return errors.New("not implemented yet")
}
