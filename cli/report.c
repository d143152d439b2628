/* placeholder until report/plot land */
#include "cli/cli.h"
int cmd_report(int argc, char **argv) { cli_error("report: not built yet"); return 2; }
int cmd_plot(int argc, char **argv) { cli_error("plot: not built yet"); return 2; }
