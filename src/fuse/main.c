/* Placeholder until the FUSE front end lands (being written now). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "e4fuse: not built yet\n");
	return 1;
}
