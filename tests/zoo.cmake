# Numerical check of the zoo against torchvision itself: cleave's seeded weights are
# loaded into the torchvision models by module path and the logits compared.
# Needs Debian's python3-torch + python3-torchvision (under /usr/bin/python3); skipped
# (not registered) when they are missing.
execute_process(COMMAND /usr/bin/python3 -c "import torchvision"
                RESULT_VARIABLE CL_ZOO_HAVE_TORCHVISION OUTPUT_QUIET ERROR_QUIET)
if(CL_ZOO_HAVE_TORCHVISION EQUAL 0)
  add_test(NAME zoo_vs_torchvision
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/torchvision_counts.py
                   --numerics ${CMAKE_BINARY_DIR} resnet18 mobilenet_v2 googlenet squeezenet1_0
                   densenet121
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(zoo_vs_torchvision PROPERTIES LABELS slow TIMEOUT 300)
else()
  message(STATUS "torchvision not found under /usr/bin/python3: zoo_vs_torchvision not registered")
endif()
