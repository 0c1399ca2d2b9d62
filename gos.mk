# gos.mk -- make rules that compile gosc models into objects and headers
# for C programs (docs/backends.md). In a Makefile:
#
#     GOSC     = path/to/gosc          # default: gosc from PATH
#     GOSFLAGS = -target=armv8 -O3     # any gosc options but -emit and -o
#     include path/to/gos.mk
#
#     app: app.o net.o
#     app.o: app.c net.h
#
# `net.o net.h: net.gos` is then made by one gosc run; the header declares
# `int net_run(...)` and the shape/size macros (the prefix is the model's
# name). .gir (textual IR) and .onnx models work the same way. Add
# -weights=external to GOSFLAGS to get net.weights beside net.o.

GOSC ?= gosc
GOSFLAGS ?=

%.o %.h: %.gos
	$(GOSC) $< $(GOSFLAGS) -emit=obj -o $*.o

%.o %.h: %.gir
	$(GOSC) $< $(GOSFLAGS) -emit=obj -o $*.o

%.o %.h: %.onnx
	$(GOSC) $< $(GOSFLAGS) -emit=obj -o $*.o
