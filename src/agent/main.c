/* pxe-agent: runs in the imaging environment, carries out the task the
 * server assigned to this machine (deploy, capture, wipe, shell) and
 * reports progress.  See docs/IMAGING.md. */
#include <stdio.h>
#include <string.h>

#include "core/version.h"

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("pxe-agent %s\n", PXED_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: pxe-agent --version\n");
	return 2;
}
