using Pisa.Cli;

NativeHeap.KeepFreedMemory();
return PisaApp.Run(args);
