#ifndef PXED_CORE_VERSION_H
#define PXED_CORE_VERSION_H
#define PXED_VERSION "0.1.0"
#endif
