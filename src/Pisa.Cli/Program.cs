using Pisa.Cli;

return PisaApp.Run(args);
